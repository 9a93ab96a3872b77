//! A rank's share of a global batch: contiguous, in rank order, sizes differing by at most one
//! (so a last batch that does not divide still splits, every sample counted once).

use std::ops::Range;

/// The rows of a global batch of `total` samples that `rank` of `size` takes.
pub(crate) fn shard(total: usize, rank: usize, size: usize) -> Range<usize> {
    total * rank / size..total * (rank + 1) / size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_a_batch_once_in_rank_order() {
        for (total, size) in [(32, 2), (30, 4), (3, 4), (1, 1), (0, 3)] {
            let parts: Vec<Range<usize>> = (0..size).map(|r| shard(total, r, size)).collect();
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts[size - 1].end, total);
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start), "{parts:?}");
            assert!(parts.iter().all(|p| p.len() <= total.div_ceil(size)), "{parts:?}");
        }
        assert_eq!(shard(32, 1, 2), 16..32);
    }
}
