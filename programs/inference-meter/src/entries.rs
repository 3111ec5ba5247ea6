//! The compact encoding of settle entries, so that a keeper fits as many as
//! possible into one 1232-byte transaction. `clients/settlement` (Go) writes
//! the same bytes.
//!
//! The settle instruction's remaining accounts are `model_count` model groups
//! (model, its revenue vault, its treasury vault), then the escrows. Entries
//! refer to them by position within their section (model 0 is the first
//! group, escrow 0 the first escrow after the groups). Each entry is:
//!
//! ```text
//! escrow index           u8
//! model count n          u8, 1..=8
//! model indexes          n × u8
//! weights (only if n>1)  n × varint, bps, each ≥ 1, summing to 10 000
//! runs                   varint, ≥ 1
//! input tokens           varint
//! output tokens          varint
//! served offset          varint seconds; served_at = served_base + offset
//! ```
//!
//! A single-model entry carries no weight: it is implicitly 10 000. Varints
//! are unsigned LEB128 (7 bits per byte, low group first), at most 10 bytes,
//! canonical (no trailing zero group), so every batch has exactly one
//! encoding.
use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::math::BPS_DENOMINATOR;

pub const MAX_MODELS_PER_ENTRY: usize = 8;
pub const MAX_MODELS_PER_BATCH: usize = 16;

/// One model's part of an entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// Index of the model group in the remaining accounts.
    pub model: u8,
    pub weight_bps: u16,
}

/// Runs one escrow paid for, served by the same model mixture in the same second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Index of the escrow among the escrow accounts.
    pub escrow: u8,
    pub share_count: u8,
    pub shares: [Share; MAX_MODELS_PER_ENTRY],
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub served_offset: u64,
}

impl Entry {
    pub fn shares(&self) -> &[Share] {
        &self.shares[..self.share_count as usize]
    }

    /// Checks the parts of the rules that need no accounts: 1..=8 distinct
    /// models, weights ≥ 1 summing to 10 000, at least one run.
    pub fn check(&self) -> Result<()> {
        let shares = self.shares();
        require!(!shares.is_empty() && shares.len() <= MAX_MODELS_PER_ENTRY, MeterError::TooManyModels);
        let mut sum: u64 = 0;
        for (i, share) in shares.iter().enumerate() {
            require!(share.weight_bps > 0, MeterError::InvalidWeights);
            require!(shares[..i].iter().all(|s| s.model != share.model), MeterError::InvalidWeights);
            sum += share.weight_bps as u64;
        }
        require!(sum == BPS_DENOMINATOR, MeterError::WeightsDoNotSum);
        require!(self.runs > 0, MeterError::ZeroRuns);
        Ok(())
    }
}

/// Reads entries one at a time, without allocating.
pub struct EntryReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> EntryReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        EntryReader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.data.get(self.pos).ok_or(MeterError::InvalidEntryEncoding)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            let group = (b & 0x7f) as u64;
            // The tenth byte may only carry the top bit of a u64.
            require!(i < 9 || group <= 1, MeterError::InvalidEntryEncoding);
            value |= group << (7 * i);
            if b & 0x80 == 0 {
                // Canonical: a multi-byte varint does not end in a zero group.
                require!(i == 0 || group != 0, MeterError::InvalidEntryEncoding);
                return Ok(value);
            }
        }
        err!(MeterError::InvalidEntryEncoding)
    }

    /// The next entry, or `None` at the end of the data.
    pub fn next_entry(&mut self) -> Result<Option<Entry>> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut entry = Entry { escrow: self.byte()?, share_count: self.byte()?, ..Entry::default() };
        let n = entry.share_count as usize;
        require!((1..=MAX_MODELS_PER_ENTRY).contains(&n), MeterError::TooManyModels);
        for share in entry.shares[..n].iter_mut() {
            share.model = self.byte()?;
        }
        if n == 1 {
            entry.shares[0].weight_bps = BPS_DENOMINATOR as u16;
        } else {
            for share in entry.shares[..n].iter_mut() {
                let w = self.varint()?;
                share.weight_bps = u16::try_from(w).map_err(|_| error!(MeterError::WeightsDoNotSum))?;
            }
        }
        entry.runs = self.varint()?;
        entry.input_tokens = self.varint()?;
        entry.output_tokens = self.varint()?;
        entry.served_offset = self.varint()?;
        Ok(Some(entry))
    }
}

/// Appends `value` as a canonical LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends `entry` in the compact encoding (the inverse of [`EntryReader`];
/// for tests and Rust clients).
pub fn encode_entry(out: &mut Vec<u8>, entry: &Entry) {
    out.push(entry.escrow);
    out.push(entry.share_count);
    for share in entry.shares() {
        out.push(share.model);
    }
    if entry.share_count > 1 {
        for share in entry.shares() {
            put_varint(out, share.weight_bps as u64);
        }
    }
    put_varint(out, entry.runs);
    put_varint(out, entry.input_tokens);
    put_varint(out, entry.output_tokens);
    put_varint(out, entry.served_offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(entry: Entry) -> Vec<u8> {
        let mut out = Vec::new();
        encode_entry(&mut out, &entry);
        let mut r = EntryReader::new(&out);
        assert_eq!(r.next_entry().unwrap(), Some(entry));
        assert_eq!(r.next_entry().unwrap(), None);
        out
    }

    #[test]
    fn single_model_entry_is_small() {
        let mut e = Entry { escrow: 3, share_count: 1, runs: 12, input_tokens: 9_000, output_tokens: 4_000, served_offset: 30, ..Default::default() };
        e.shares[0] = Share { model: 1, weight_bps: 10_000 };
        assert_eq!(roundtrip(e).len(), 1 + 1 + 1 + 1 + 2 + 2 + 1);
    }

    #[test]
    fn varints_roundtrip_at_the_edges_and_reject_overlong_forms() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(EntryReader::new(&out).varint().unwrap(), v);
        }
        // 0 written in two bytes, and a value above u64::MAX.
        assert!(EntryReader::new(&[0x80, 0x00]).varint().is_err());
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert!(EntryReader::new(&too_big).varint().is_err());
        assert!(EntryReader::new(&[0x80]).varint().is_err());
    }

    /// The same vector is checked by clients/settlement (Go): both sides write
    /// and read identical bytes.
    #[test]
    fn cross_language_vector() {
        let entry = |escrow: u8, shares: &[(u8, u16)], runs: u64, input: u64, output: u64, offset: u64| {
            let mut e = Entry { escrow, share_count: shares.len() as u8, runs, input_tokens: input, output_tokens: output, served_offset: offset, ..Default::default() };
            for (slot, (model, weight)) in e.shares.iter_mut().zip(shares) {
                *slot = Share { model: *model, weight_bps: *weight };
            }
            e
        };
        let entries = [
            entry(3, &[(1, 10_000)], 12, 9_000, 4_000, 30),
            entry(0, &[(2, 3_333), (0, 6_667)], 1, 0, 300, 0),
            entry(255, &[(15, 10_000)], u64::MAX, 0, 0, 1),
        ];
        let mut out = Vec::new();
        for e in &entries {
            encode_entry(&mut out, e);
        }
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "0301010ca846a01f1e00020200851a8b340100ac0200ff010fffffffffffffffffff01000001");
        let mut r = EntryReader::new(&out);
        for e in &entries {
            assert_eq!(r.next_entry().unwrap().as_ref(), Some(e));
        }
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_entry_is_rejected() {
        let mut e = Entry { escrow: 0, share_count: 2, runs: 1, ..Default::default() };
        e.shares[0] = Share { model: 0, weight_bps: 5_000 };
        e.shares[1] = Share { model: 1, weight_bps: 5_000 };
        let mut out = Vec::new();
        encode_entry(&mut out, &e);
        out.pop();
        assert!(EntryReader::new(&out).next_entry().is_err());
    }
}
