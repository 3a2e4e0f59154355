//! Which shard of a run a case belongs to.

use crate::deviation;

/// The shard (1-based) a case belongs to among `n`: a stable hash of its name, so a case
/// stays in its shard however the suite grows.
pub fn shard_of(test_name: &str, n: u32) -> u32 {
    (deviation::fnv1a(test_name.as_bytes()) % u64::from(n.max(1))) as u32 + 1
}

/// `K/N` from text, with 1 <= K <= N.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/3");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_hash_stably() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        for bad in ["0/3", "4/3", "x/3", "3", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let a = shard_of("sts::AssumeRole::x", 5);
        assert_eq!(a, shard_of("sts::AssumeRole::x", 5));
        assert!((1..=5).contains(&a));
        // The hash is FNV-1a: shards stay where earlier versions put them.
        assert_eq!(
            shard_of("sts::AssumeRole::x", 1_000_003),
            1 + (crate::deviation::fnv1a(b"sts::AssumeRole::x") % 1_000_003) as u32
        );
    }
}
