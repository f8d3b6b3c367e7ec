//! Fingerprints seen in a run (record ids, responses), held in memory up to a limit and then in
//! sorted runs on disk, so that a run's memory does not grow with the number of ids it meets.
//!
//! An entry is a 128-bit value: a 112-bit key (the high bits of a fingerprint, which alone
//! hash and compare) and a 16-bit value (the low bits, e.g. the month a response was first
//! met in). In memory the entries sit in 256 hash sets chosen by the key's first byte. When a
//! set is full at the limit, every entry in memory goes to disk as one sorted run (an unnamed
//! temporary file in the folder given, which the system removes however the run ends), and a
//! blocked Bloom filter over everything on disk answers "never seen" without reading it. A run
//! on disk is found by its fence (the first key of each block of 256 entries), so a lookup
//! that the filter lets through reads one 4 KiB block of each run. Runs merge like the digits of
//! a binary counter (a new run merges with the last while the last is no larger), so there are
//! at most about log₂(spills) + 1 of them and an entry is rewritten as often; when the filter is
//! full it is rebuilt twice as large from the runs.
//!
//! Answers do not depend on where an entry is held: the set is exact (no false "seen"), and
//! [`FingerprintSet::insert`] keeps the first value of a key wherever it lies.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Entries in a block of a run on disk (the fence holds the first key of each).
const BLOCK: usize = 256;
/// Bytes of an entry on disk (little-endian).
const ENTRY: usize = 16;
/// Bits of the Bloom filter an entry on disk.
const BITS_PER_ENTRY: usize = 12;

/// Ids in memory by default before the rest go to disk (per set): 256 × 7,168, so each of the
/// 256 hash sets stops at 8,192 slots (about 35 MB a set).
pub(crate) const DEFAULT_IN_MEMORY: usize = 256 * 7_168;
/// The fewest ids a run's settings may hold in memory (16 a hash set): fewer would only write
/// smaller runs more often.
pub(crate) const FEWEST_IN_MEMORY: usize = 256 * 16;

/// An entry: the key in the high 112 bits, the value in the low 16.
#[derive(Clone, Copy)]
struct Entry(u128);

impl Entry {
    fn key(self) -> u128 {
        self.0 >> 16
    }
}

impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.key().hash(h);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Entry {}

type Shard = HashSet<Entry, foldhash::fast::FixedState>;

/// A set of fingerprints with a value each, exact, in bounded memory (see the module).
pub(crate) struct FingerprintSet {
    /// By the key's first byte.
    shards: Vec<Shard>,
    /// Entries the shards may hold together before the memory is spilled: counted over all of
    /// them, not a share per shard (each of the 256 spilled at its 256th, so the fullest spilled
    /// the set early: 2,286 of 3,000 ids went to disk under a limit of 5,000, found by a reader
    /// in the twenty-sixth session on issue 9).
    limit: usize,
    /// Entries in the shards.
    held: usize,
    /// Where runs go; none = everything stays in memory.
    folder: Option<PathBuf>,
    disk: Disk,
    /// The first failure to write or read a run (the set then keeps what it has in memory).
    failure: Option<String>,
}

impl FingerprintSet {
    /// A set that holds about `in_memory` entries in memory before it spills (once given a
    /// folder, [`FingerprintSet::spill_into`]).
    #[must_use]
    pub(crate) fn new(in_memory: usize) -> FingerprintSet {
        FingerprintSet {
            shards: Vec::new(),
            limit: in_memory.max(1),
            held: 0,
            folder: None,
            disk: Disk::default(),
            failure: None,
        }
    }

    /// Entries past the memory limit go to unnamed temporary files in `folder` from now on.
    pub(crate) fn spill_into(&mut self, folder: &Path) {
        self.folder = Some(folder.to_path_buf());
    }

    /// The value held for the key of `fingerprint` (its high 112 bits), if it was inserted.
    #[must_use]
    pub(crate) fn get(&mut self, fingerprint: u128) -> Option<u16> {
        let probe = Entry(fingerprint);
        if let Some(e) = self.shards.get((fingerprint >> 120) as usize).and_then(|s| s.get(&probe)) {
            return Some(e.0 as u16);
        }
        match self.disk.get(probe.key()) {
            Ok(v) => v,
            Err(e) => {
                self.failure.get_or_insert(e);
                None
            }
        }
    }

    /// Inserts `value` for the key of `fingerprint` unless the key is held already: then the
    /// value held (the first inserted), and nothing changes.
    pub(crate) fn insert(&mut self, fingerprint: u128, value: u16) -> Option<u16> {
        if let Some(held) = self.get(fingerprint) {
            return Some(held);
        }
        if self.shards.is_empty() {
            self.shards = (0..256).map(|_| Shard::default()).collect();
        }
        let shard = (fingerprint >> 120) as usize;
        if self.held >= self.limit && self.folder.is_some() && self.failure().is_none() {
            self.spill();
        }
        self.shards[shard].insert(Entry((fingerprint & !0xFFFF) | u128::from(value)));
        self.held += 1;
        None
    }

    /// Entries held in memory and on disk.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(HashSet::len).sum::<usize>() + self.disk.len()
    }

    /// Entries that went to disk so far (0 when the set never spilled).
    #[must_use]
    pub(crate) fn spilled(&self) -> usize {
        self.disk.len()
    }

    /// Runs on disk.
    #[cfg(test)]
    fn runs(&self) -> usize {
        self.disk.runs.len()
    }

    /// The first failure to keep entries on disk or read them back, if any: after a failure to
    /// write, the set holds everything in memory (exact, only larger); after a failure to read,
    /// answers may be wrong and the run must stop.
    #[must_use]
    pub(crate) fn failure(&self) -> Option<&str> {
        self.failure.as_deref().or(self.disk.failure.as_deref())
    }

    /// Moves every entry in memory to a new run on disk (shards keep their room).
    fn spill(&mut self) {
        let Some(folder) = self.folder.clone() else { return };
        match self.disk.add_run(&folder, &self.shards) {
            Ok(()) => {
                self.shards.iter_mut().for_each(HashSet::clear);
                self.held = 0;
            }
            Err(e) => {
                self.failure = Some(format!("cannot keep ids on disk in {}: {e}", folder.display()));
            }
        }
    }
}

/// The runs on disk and the Bloom filter over all of them.
#[derive(Default)]
struct Disk {
    runs: Vec<Run>,
    bloom: Bloom,
    /// The first merge that failed.
    failure: Option<String>,
}

/// A sorted run of entries in an unnamed temporary file.
struct Run {
    file: File,
    entries: usize,
    /// The first key of each block of [`BLOCK`] entries.
    fence: Vec<u128>,
}

impl Disk {
    fn len(&self) -> usize {
        self.runs.iter().map(|r| r.entries).sum()
    }

    fn get(&self, key: u128) -> Result<Option<u16>, String> {
        if self.runs.is_empty() || !self.bloom.may_hold(key) {
            return Ok(None);
        }
        for run in &self.runs {
            if let Some(v) = run.get(key)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Writes the entries of `shards` as one sorted run (shard by shard: a shard is the key's
    /// first byte, so shards in order are keys in order), then merges runs as a binary counter
    /// carries. An error here means the run was not written (the entries stay in memory); a
    /// merge that fails leaves the runs as they were and is kept in `failure`.
    fn add_run(&mut self, folder: &Path, shards: &[Shard]) -> std::io::Result<()> {
        let mut out = RunWriter::create(folder)?;
        let mut sorted: Vec<u128> = Vec::new();
        for shard in shards {
            sorted.clear();
            sorted.extend(shard.iter().map(|e| e.0));
            sorted.sort_unstable();
            for &e in &sorted {
                out.push(e)?;
            }
        }
        let run = out.finish()?;
        let total = self.len() + run.entries;
        if total > self.bloom.capacity {
            // rebuilt twice as large from what is on disk, so that it fills again only once the
            // entries have doubled
            let mut bloom = Bloom::with_capacity(2 * total);
            for r in &self.runs {
                let mut read = RunReader::new(r);
                while let Some(e) = read.next()? {
                    bloom.add(e >> 16);
                }
            }
            self.bloom = bloom;
        }
        for shard in shards {
            shard.iter().for_each(|e| self.bloom.add(e.key()));
        }
        self.runs.push(run);
        while let [.., a, b] = self.runs.as_slice() {
            if a.entries > b.entries {
                break;
            }
            match merged(folder, a, b) {
                Ok(run) => {
                    self.runs.truncate(self.runs.len() - 2);
                    self.runs.push(run);
                }
                Err(e) => {
                    self.failure = Some(format!("cannot merge the ids kept on disk in {}: {e}", folder.display()));
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The entries of two runs (no key in both) as one run.
fn merged(folder: &Path, a: &Run, b: &Run) -> std::io::Result<Run> {
    let mut out = RunWriter::create(folder)?;
    let (mut ra, mut rb) = (RunReader::new(a), RunReader::new(b));
    let (mut x, mut y) = (ra.next()?, rb.next()?);
    loop {
        match (x, y) {
            (Some(p), Some(q)) if p < q => {
                out.push(p)?;
                x = ra.next()?;
            }
            (Some(p), None) => {
                out.push(p)?;
                x = ra.next()?;
            }
            (_, Some(q)) => {
                out.push(q)?;
                y = rb.next()?;
            }
            (None, None) => break,
        }
    }
    out.finish()
}

impl Run {
    fn get(&self, key: u128) -> Result<Option<u16>, String> {
        let block = self.fence.partition_point(|&f| f >> 16 <= key);
        if block == 0 {
            return Ok(None);
        }
        let first = (block - 1) * BLOCK;
        let n = BLOCK.min(self.entries - first);
        let mut buf = [0u8; BLOCK * ENTRY];
        read_at(&self.file, &mut buf[..n * ENTRY], (first * ENTRY) as u64)
            .map_err(|e| format!("cannot read back the ids kept on disk: {e}"))?;
        let entry = |i: usize| entry_at(&buf, i);
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match (entry(mid) >> 16).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(entry(mid) as u16)),
            }
        }
        Ok(None)
    }
}

/// Entry `i` of bytes read from a run.
fn entry_at(buf: &[u8], i: usize) -> u128 {
    u128::from_le_bytes(buf[i * ENTRY..(i + 1) * ENTRY].try_into().unwrap_or_default())
}

/// Writes a run: entries in key order, the fence built on the way.
struct RunWriter {
    out: BufWriter<File>,
    entries: usize,
    fence: Vec<u128>,
}

impl RunWriter {
    fn create(folder: &Path) -> std::io::Result<RunWriter> {
        let file = tempfile::tempfile_in(folder)?;
        Ok(RunWriter { out: BufWriter::with_capacity(1 << 16, file), entries: 0, fence: Vec::new() })
    }

    fn push(&mut self, entry: u128) -> std::io::Result<()> {
        if self.entries.is_multiple_of(BLOCK) {
            self.fence.push(entry);
        }
        self.entries += 1;
        self.out.write_all(&entry.to_le_bytes())
    }

    fn finish(self) -> std::io::Result<Run> {
        let file = self.out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        Ok(Run { file, entries: self.entries, fence: self.fence })
    }
}

/// Reads a run from its start, 4,096 entries at a time.
struct RunReader<'a> {
    run: &'a Run,
    buf: Vec<u8>,
    /// Entries read from the file so far, and the next entry of `buf`.
    read: usize,
    at: usize,
}

impl<'a> RunReader<'a> {
    fn new(run: &'a Run) -> RunReader<'a> {
        RunReader { run, buf: Vec::new(), read: 0, at: 0 }
    }

    fn next(&mut self) -> std::io::Result<Option<u128>> {
        if self.at * ENTRY == self.buf.len() {
            let n = (self.run.entries - self.read).min(4_096);
            if n == 0 {
                return Ok(None);
            }
            self.buf.resize(n * ENTRY, 0);
            read_at(&self.run.file, &mut self.buf, (self.read * ENTRY) as u64)?;
            self.read += n;
            self.at = 0;
        }
        let e = entry_at(&self.buf, self.at);
        self.at += 1;
        Ok(Some(e))
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A blocked Bloom filter over 112-bit keys (already hashes): each key sets 6 bits of one
/// 512-bit block, so a test touches one cache line. About 1 false "maybe" in 200 when full.
#[derive(Default)]
struct Bloom {
    blocks: Vec<[u64; 8]>,
    /// Entries it is sized for.
    capacity: usize,
}

impl Bloom {
    fn with_capacity(capacity: usize) -> Bloom {
        let blocks = (capacity * BITS_PER_ENTRY).div_ceil(512).max(1);
        Bloom { blocks: vec![[0; 8]; blocks], capacity }
    }

    /// The block (from the key's high 56 bits) and the 6 bits in it (9 bits each from the low 54).
    fn bits(&self, key: u128) -> (usize, [u16; 6]) {
        let high = (key >> 56) as u64;
        let block = ((u128::from(high) * self.blocks.len() as u128) >> 56) as usize;
        let low = key as u64;
        (block, std::array::from_fn(|i| ((low >> (9 * i)) & 511) as u16))
    }

    fn add(&mut self, key: u128) {
        let (block, bits) = self.bits(key);
        let b = &mut self.blocks[block];
        for bit in bits {
            b[usize::from(bit >> 6)] |= 1 << (bit & 63);
        }
    }

    fn may_hold(&self, key: u128) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let (block, bits) = self.bits(key);
        let b = &self.blocks[block];
        bits.iter().all(|&bit| b[usize::from(bit >> 6)] & (1 << (bit & 63)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(i: u64) -> u128 {
        crate::record::fingerprint(&i) & !0xFFFF
    }

    /// Whatever the limit (everything in memory, or a run on disk every few entries with merges
    /// on the way), the set answers as a plain map that keeps the first value of each key.
    #[test]
    fn a_set_spills_past_its_limit_counted_over_every_shard_not_before() {
        let folder = tempfile::tempdir().unwrap();
        let mut set = FingerprintSet::new(5_000);
        set.spill_into(folder.path());
        let key = |i: u64| crate::record::fingerprint(&i);
        for i in 0..5_000 {
            set.insert(key(i), 1);
        }
        assert_eq!(set.spilled(), 0, "nothing goes to disk up to the limit (2,286 of 3,000 did)");
        for i in 5_000..6_000 {
            set.insert(key(i), 1);
        }
        assert_eq!(set.spilled(), 5_000, "past it, what the memory held");
    }

    #[test]
    fn a_set_that_spills_answers_as_one_held_in_memory() {
        let folder = tempfile::tempdir().unwrap();
        // keys 0..3000 in a scrambled order, each met 1-3 times with changing values
        let met: Vec<(u128, u16)> = (0..9_000u64).map(|i| (fp((i * 7_919) % 3_000), (i % 5) as u16)).collect();
        for limit in [1, 300, 2_000, usize::MAX / 2] {
            let mut set = FingerprintSet::new(limit);
            set.spill_into(folder.path());
            let mut plain: std::collections::HashMap<u128, u16> = std::collections::HashMap::new();
            for (n, &(k, v)) in met.iter().enumerate() {
                assert_eq!(set.insert(k, v), plain.get(&k).copied(), "limit {limit}, entry {n}");
                plain.entry(k).or_insert(v);
                if n % 97 == 0 {
                    // a key never inserted is never seen
                    assert_eq!(set.get(fp(1_000_000 + n as u64)), None, "limit {limit}, entry {n}");
                }
            }
            for (&k, &v) in &plain {
                assert_eq!(set.get(k), Some(v), "limit {limit}");
            }
            assert_eq!(set.len(), 3_000);
            assert!(set.failure().is_none());
            if limit <= 2_000 {
                assert!(set.spilled() > 0, "limit {limit} should have spilled");
                // runs merge as a binary counter: never more than one per bit of the entries on disk
                let bits = usize::BITS - set.spilled().leading_zeros();
                assert!(set.runs() <= bits as usize, "limit {limit}: {} runs for {}", set.runs(), set.spilled());
            } else {
                assert_eq!(set.spilled(), 0);
            }
        }
    }

    /// The low 16 bits are the value: two fingerprints that differ only there are one key.
    #[test]
    fn the_key_is_the_high_112_bits() {
        let mut set = FingerprintSet::new(10);
        assert_eq!(set.insert(fp(1) | 3, 3), None);
        assert_eq!(set.insert(fp(1) | 9, 9), Some(3));
        assert_eq!(set.get(fp(1) | 5), Some(3));
        assert_eq!(set.get(fp(2)), None);
    }

    /// A folder that cannot hold the runs costs memory, not answers: the failure is kept for the
    /// run to report, and every entry stays in memory.
    #[test]
    fn a_folder_that_cannot_hold_the_runs_keeps_everything_in_memory() {
        let folder = tempfile::tempdir().unwrap();
        let mut set = FingerprintSet::new(1);
        set.spill_into(&folder.path().join("missing"));
        for i in 0..500 {
            assert_eq!(set.insert(fp(i), 1), None);
        }
        for i in 0..500 {
            assert_eq!(set.insert(fp(i), 2), Some(1));
        }
        assert_eq!(set.spilled(), 0);
        assert!(set.failure().unwrap().contains("missing"), "{:?}", set.failure());
    }

    /// The filter never says "never seen" of a key it holds, and rarely "maybe" of one it does not.
    #[test]
    fn the_filter_has_no_false_negatives_and_few_false_positives() {
        let mut bloom = Bloom::with_capacity(10_000);
        (0..10_000).for_each(|i| bloom.add(fp(i) >> 16));
        assert!((0..10_000).all(|i| bloom.may_hold(fp(i) >> 16)));
        let false_maybe = (10_000..110_000).filter(|&i| bloom.may_hold(fp(i) >> 16)).count();
        assert!(false_maybe < 1_500, "{false_maybe} false positives in 100,000");
    }
}
