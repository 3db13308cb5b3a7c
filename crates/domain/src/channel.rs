//! Channels a contact arrives on. Capacity is counted per channel.

/// Media channel of a task. An agent has a separate capacity for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Voice,
    Chat,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Voice, Channel::Chat];
    pub const COUNT: usize = Self::ALL.len();

    /// Dense index for per-channel arrays.
    pub const fn index(self) -> usize {
        match self {
            Channel::Voice => 0,
            Channel::Chat => 1,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(Channel::ALL[c.index()], c);
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
