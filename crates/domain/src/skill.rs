//! Skills and their levels.

use thiserror::Error;

/// An interned skill; the store maps names to ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillId(pub u32);

/// Proficiency from 1 (novice) to 10 (expert).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillLevel(u8);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("skill level must be between {min} and {max}, got {got}", min = SkillLevel::MIN.0, max = SkillLevel::MAX.0)]
pub struct SkillLevelError {
    pub got: i64,
}

impl SkillLevel {
    pub const MIN: SkillLevel = SkillLevel(1);
    pub const MAX: SkillLevel = SkillLevel(10);

    pub fn new(level: i64) -> Result<SkillLevel, SkillLevelError> {
        if (Self::MIN.0 as i64..=Self::MAX.0 as i64).contains(&level) {
            Ok(SkillLevel(level as u8))
        } else {
            Err(SkillLevelError { got: level })
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_bounded() {
        assert!(SkillLevel::new(0).is_err());
        assert_eq!(SkillLevel::new(1).unwrap().get(), 1);
        assert_eq!(SkillLevel::new(10).unwrap().get(), 10);
        assert_eq!(
            SkillLevel::new(11).unwrap_err().to_string(),
            "skill level must be between 1 and 10, got 11"
        );
    }
}
