//! G.711 (ITU-T G.711): μ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8),
//! 8 kHz, one byte per sample.
//!
//! Encoding follows the classic reference implementation (Sun's `g711.c`, which matches the
//! ITU tables): 16-bit linear in, the top 14 (μ-law) or 13 (A-law) bits are used. Decoding
//! and transcoding between the laws use 256-entry `const` tables built at compile time.
//! Transcoding goes through the linear value, as `g711.c` does, not through the separate
//! G.711 Table 3/4 mapping; the two differ by at most one quantization step.

/// The two G.711 laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Law {
    /// μ-law, North America and Japan.
    Pcmu,
    /// A-law, Europe and most of the world.
    Pcma,
}

impl Law {
    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Law::Pcmu => 0,
            Law::Pcma => 8,
        }
    }

    /// The law for a static RTP payload type.
    pub const fn from_payload_type(pt: u8) -> Option<Law> {
        match pt {
            0 => Some(Law::Pcmu),
            8 => Some(Law::Pcma),
            _ => None,
        }
    }

    /// The byte that decodes to (near) zero.
    pub const fn silence(self) -> u8 {
        match self {
            Law::Pcmu => ULAW_SILENCE,
            Law::Pcma => ALAW_SILENCE,
        }
    }

    pub fn encode(self, linear: i16) -> u8 {
        match self {
            Law::Pcmu => linear_to_ulaw(linear),
            Law::Pcma => linear_to_alaw(linear),
        }
    }

    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Law::Pcmu => ulaw_to_linear(byte),
            Law::Pcma => alaw_to_linear(byte),
        }
    }

    /// Encodes `samples`, appending one byte per sample to `out`.
    pub fn encode_into(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode(s)));
    }

    /// Decodes `bytes`, appending one sample per byte to `out`.
    pub fn decode_into(self, bytes: &[u8], out: &mut Vec<i16>) {
        out.extend(bytes.iter().map(|&b| self.decode(b)));
    }

    /// Rewrites `bytes` of law `self` into law `to`, in place.
    pub fn transcode_in_place(self, to: Law, bytes: &mut [u8]) {
        let table = match (self, to) {
            (Law::Pcmu, Law::Pcma) => &ULAW_TO_ALAW,
            (Law::Pcma, Law::Pcmu) => &ALAW_TO_ULAW,
            _ => return,
        };
        for b in bytes {
            *b = table[usize::from(*b)];
        }
    }
}

/// μ-law byte for 0 (positive zero).
pub const ULAW_SILENCE: u8 = 0xff;
/// A-law byte for the smallest positive value (+8).
pub const ALAW_SILENCE: u8 = 0xd5;

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32_635;

/// 16-bit linear to μ-law.
pub const fn linear_to_ulaw(linear: i16) -> u8 {
    let mut pcm = linear as i32;
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS;
    // pcm is in 0x84..=0x7fff: its highest set bit is 7..=14, the segment 0..=7.
    let segment = (31 - pcm.leading_zeros() as i32) - 7;
    let mantissa = (pcm >> (segment + 3)) & 0x0f;
    !(sign | (segment << 4) | mantissa) as u8
}

/// μ-law to 16-bit linear.
pub const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let segment = (u >> 4) & 0x07;
    let mantissa = (u & 0x0f) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    // magnitude <= ((15 << 3) + 0x84) << 7 = 32_256, within i16.
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Upper ends of the A-law segments on the 13-bit magnitude.
const ALAW_SEGMENT_END: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/// 16-bit linear to A-law.
pub const fn linear_to_alaw(linear: i16) -> u8 {
    let mut pcm = (linear as i32) >> 3;
    let mask = if pcm >= 0 {
        0xd5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let mut segment = 0;
    while segment < 8 && pcm > ALAW_SEGMENT_END[segment] {
        segment += 1;
    }
    if segment == 8 {
        // Cannot happen for 13-bit input (0xfff is the largest magnitude), kept for safety.
        return (0x7f ^ mask) as u8;
    }
    let shift = if segment < 2 { 1 } else { segment as i32 };
    let aval = ((segment as i32) << 4) | ((pcm >> shift) & 0x0f);
    (aval ^ mask) as u8
}

/// A-law to 16-bit linear.
pub const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = ((a & 0x0f) as i32) << 4;
    let segment = ((a & 0x70) >> 4) as i32;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (segment - 1),
    }
    // t <= (0xf0 + 0x108) << 6 = 32_256, within i16.
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn decode_table(law: Law) -> [i16; 256] {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match law {
            Law::Pcmu => ulaw_to_linear(i as u8),
            Law::Pcma => alaw_to_linear(i as u8),
        };
        i += 1;
    }
    table
}

const fn transcode_table(from: Law) -> [u8; 256] {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match from {
            Law::Pcmu => linear_to_alaw(ulaw_to_linear(i as u8)),
            Law::Pcma => linear_to_ulaw(alaw_to_linear(i as u8)),
        };
        i += 1;
    }
    table
}

/// μ-law byte to linear, as a table.
pub const ULAW_TO_LINEAR: [i16; 256] = decode_table(Law::Pcmu);
/// A-law byte to linear, as a table.
pub const ALAW_TO_LINEAR: [i16; 256] = decode_table(Law::Pcma);
/// μ-law byte to the A-law byte of the same linear value.
pub const ULAW_TO_ALAW: [u8; 256] = transcode_table(Law::Pcmu);
/// A-law byte to the μ-law byte of the same linear value.
pub const ALAW_TO_ULAW: [u8; 256] = transcode_table(Law::Pcma);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32_256);
        assert_eq!(alaw_to_linear(0x2a), -32_256);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
        assert_eq!(Law::Pcmu.decode(Law::Pcmu.silence()), 0);
        assert_eq!(Law::Pcma.decode(Law::Pcma.silence()), 8);
        assert_eq!(Law::from_payload_type(8), Some(Law::Pcma));
        assert_eq!(Law::from_payload_type(Law::Pcmu.payload_type()), Some(Law::Pcmu));
        assert_eq!(Law::from_payload_type(18), None);
    }

    #[test]
    fn roundtrip_error_is_within_the_quantization_step_for_every_sample() {
        for law in [Law::Pcmu, Law::Pcma] {
            let mut err_max = 0;
            for x in i16::MIN..=i16::MAX {
                let y = law.decode(law.encode(x));
                let err = (i32::from(x) - i32::from(y)).abs();
                let magnitude = i32::from(x).abs();
                // Logarithmic quantization: the step grows with the magnitude (about 1/16
                // of it), with a floor of 8 (μ-law) or 16 (A-law) near zero, and μ-law clips
                // above 32_635.
                assert!(err <= magnitude / 32 + 16, "{law:?}: {x} -> {y}");
                err_max = err_max.max(err);
            }
            assert!(err_max <= 1_024, "{law:?}: max error {err_max}");
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        for law in [Law::Pcmu, Law::Pcma] {
            let mut previous = law.decode(law.encode(i16::MIN));
            for x in i16::MIN..=i16::MAX {
                let y = law.decode(law.encode(x));
                assert!(y >= previous, "{law:?}: not monotonic at {x}");
                previous = y;
            }
        }
    }

    #[test]
    fn decoded_values_reencode_to_the_same_byte() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_ulaw(ulaw_to_linear(b)), if b == 0x7f { 0xff } else { b });
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b);
            assert_eq!(ULAW_TO_LINEAR[usize::from(b)], ulaw_to_linear(b));
            assert_eq!(ALAW_TO_LINEAR[usize::from(b)], alaw_to_linear(b));
        }
    }

    #[test]
    fn transcoding_keeps_the_value_within_one_step() {
        for b in 0..=255u8 {
            let linear = i32::from(ulaw_to_linear(b));
            let via_alaw = i32::from(alaw_to_linear(ULAW_TO_ALAW[usize::from(b)]));
            assert!((linear - via_alaw).abs() <= linear.abs() / 16 + 16, "{b:#x}");
            let linear = i32::from(alaw_to_linear(b));
            let via_ulaw = i32::from(ulaw_to_linear(ALAW_TO_ULAW[usize::from(b)]));
            assert!((linear - via_ulaw).abs() <= linear.abs() / 16 + 16, "{b:#x}");
        }
        let mut bytes = [0xff, 0x80, 0x00];
        Law::Pcmu.transcode_in_place(Law::Pcma, &mut bytes);
        assert_eq!(bytes, [ULAW_TO_ALAW[0xff], ULAW_TO_ALAW[0x80], ULAW_TO_ALAW[0x00]]);
        Law::Pcma.transcode_in_place(Law::Pcma, &mut bytes);
        assert_eq!(bytes[0], ULAW_TO_ALAW[0xff]);
    }

    #[test]
    fn encode_and_decode_slices() {
        let mut bytes = Vec::new();
        Law::Pcma.encode_into(&[0, 1000, -1000], &mut bytes);
        let mut samples = Vec::new();
        Law::Pcma.decode_into(&bytes, &mut samples);
        assert_eq!(samples.len(), 3);
        assert!((samples[1] - 1000).abs() <= 32);
        assert!((samples[2] + 1000).abs() <= 32);
    }
}
