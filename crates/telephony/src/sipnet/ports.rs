//! The RTP port pool: even ports from the configured range (RTCP takes the odd one above),
//! handed out least recently used first so a port just closed is not reused at once and late
//! packets of an old call do not reach a new one.

use std::collections::{HashSet, VecDeque};

pub struct PortPool {
    free: VecDeque<u16>,
    used: HashSet<u16>,
}

impl PortPool {
    pub fn new(min: u16, max: u16) -> PortPool {
        let first = min + min % 2;
        let free = (first..max).step_by(2).collect();
        PortPool { free, used: HashSet::new() }
    }

    pub fn take(&mut self) -> Option<u16> {
        let port = self.free.pop_front()?;
        self.used.insert(port);
        Some(port)
    }

    pub fn release(&mut self, port: u16) {
        if self.used.remove(&port) {
            self.free.push_back(port);
        }
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::PortPool;

    #[test]
    fn hands_out_even_ports_least_recently_used_first_and_runs_dry() {
        let mut pool = PortPool::new(10_001, 10_006);
        assert_eq!((pool.take(), pool.take()), (Some(10_002), Some(10_004)));
        assert_eq!(pool.take(), None, "10006 would need RTCP on 10007, outside the range");
        pool.release(10_002);
        pool.release(10_002);
        assert_eq!(pool.in_use(), 1, "a double release is harmless");
        assert_eq!(pool.take(), Some(10_002));
    }
}
