//! A short list kept inside its owner while it is short, on the heap beyond.
//!
//! A freed agent is cold in cache: each list it reads through a pointer (its skills, its open
//! offers) is one more cache miss on the decision's path, while most agents hold a handful.

/// Up to `N` items inline.
#[derive(Clone, Debug)]
pub(crate) enum SmallList<T: Copy, const N: usize> {
    Inline(u8, [T; N]),
    Heap(Vec<T>),
}

impl<T: Copy, const N: usize> SmallList<T, N> {
    const _FITS: () = assert!(N < u8::MAX as usize);

    /// An empty list; `fill` takes the unused inline places.
    pub(crate) fn new(fill: T) -> Self {
        SmallList::Inline(0, [fill; N])
    }

    pub(crate) fn from_vec(list: Vec<T>, fill: T) -> Self {
        if list.len() > N {
            return SmallList::Heap(list);
        }
        let mut items = [fill; N];
        items[..list.len()].copy_from_slice(&list);
        // At most N, below u8::MAX (checked at compile time).
        SmallList::Inline(list.len() as u8, items)
    }

    pub(crate) fn push(&mut self, item: T) {
        match self {
            SmallList::Inline(len, items) if usize::from(*len) < N => {
                items[usize::from(*len)] = item;
                *len += 1;
            }
            SmallList::Inline(_, items) => {
                let mut list = items.to_vec();
                list.push(item);
                *self = SmallList::Heap(list);
            }
            SmallList::Heap(list) => list.push(item),
        }
    }

    /// Removes the item at `at`, keeping the order of the others.
    pub(crate) fn remove(&mut self, at: usize) {
        match self {
            SmallList::Inline(len, items) => {
                let n = usize::from(*len);
                assert!(at < n, "small list index {at} out of {n}");
                // A loop, not `copy_within`: the list is short (most often the last item goes),
                // and the call to `memmove` cost more than the moves.
                for i in at..n - 1 {
                    items[i] = items[i + 1];
                }
                *len -= 1;
            }
            SmallList::Heap(list) => {
                list.remove(at);
            }
        }
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for SmallList<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            SmallList::Inline(len, items) => &items[..usize::from(*len)],
            SmallList::Heap(list) => list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_across_the_inline_limit() {
        let mut list: SmallList<u32, 3> = SmallList::new(0);
        let mut model = Vec::new();
        for step in 0..200u32 {
            if step % 3 == 2 && !model.is_empty() {
                let at = (step as usize * 7) % model.len();
                list.remove(at);
                model.remove(at);
            } else {
                list.push(step);
                model.push(step);
            }
            assert_eq!(&list[..], &model[..]);
        }
        let back: SmallList<u32, 3> = SmallList::from_vec(vec![1, 2], 0);
        assert_eq!(&back[..], &[1, 2]);
    }
}
