//! Classic pcap files of RTP over UDP/IPv4 on Ethernet, as sipp's `play_pcap_audio` replays
//! them: the benchmark and the tests script a caller's audio and key presses with these.

/// A pcap file holding `packets`, each an RTP datagram with its offset in microseconds.
/// Addresses and ports are placeholders: the player sends to the call's negotiated address.
pub fn rtp_pcap(packets: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    // Magic, version 2.4, zone, accuracy, snap length, link type 1 (Ethernet).
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (micros, rtp) in packets {
        let udp_len = 8 + rtp.len();
        let mut ip = vec![0x45, 0];
        // Lengths fit: an RTP packet here is far below 64 KiB.
        ip.extend_from_slice(&((20 + udp_len) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        let checksum = ip_checksum(&ip);
        ip[10..12].copy_from_slice(&checksum.to_be_bytes());
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&4_000u16.to_be_bytes());
        frame.extend_from_slice(&6_000u16.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(rtp);
        let (secs, rest) = (micros / 1_000_000, micros % 1_000_000);
        out.extend_from_slice(&(secs as u32).to_le_bytes());
        out.extend_from_slice(&(rest as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_framed_with_their_times_and_a_valid_ip_checksum() {
        let bytes = rtp_pcap(&[(0, vec![0x80, 0, 0, 1]), (1_020_000, vec![0x80, 0, 0, 2])]);
        assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
        let second = 24 + 16 + 14 + 20 + 8 + 4;
        assert_eq!(&bytes[second..second + 8], &[1, 0, 0, 0, 0x20, 0x4e, 0, 0], "1 s + 20 ms");
        let ip = &bytes[24 + 16 + 14..24 + 16 + 34];
        let sum: u32 = ip.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
        assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff, "checksum verifies");
        assert_eq!(bytes.len(), 24 + 2 * (16 + 14 + 20 + 8 + 4));
    }
}
