//! A number with a fixed count of decimals, exactly as `format!("{value:.N}")` writes it.
//!
//! core's float formatting (Grisu with a Dragon4 fallback and its big-number arithmetic, 9 KB
//! of code and its tables) would otherwise be in the browser's first download for the few
//! `{:.2}` of money, counts and rates (BENCHMARKS.md). The dashboard only ever asks for a few
//! decimals, which exact integer arithmetic gives in a few lines: an `f64` is `m × 2^e` exactly,
//! so `value × 10^N` is `m × 10^N` shifted by `e`, rounded half to even on the bits shifted out,
//! as core rounds.

/// The most decimals [`fixed`] writes: `m × 10^N` (53 + 30 bits) fits in a `u128`.
pub const MAX_DECIMALS: usize = 9;

/// `value` with `decimals` digits after the point (at most [`MAX_DECIMALS`]), the same text as
/// `format!("{value:.decimals$}")`: `fixed(2.675, 2)` is `"2.67"` (2.675 is 2.67499… in
/// binary), `fixed(0.125, 2)` is `"0.12"` (a true tie goes to the even digit), `-0.0` keeps
/// its sign.
pub fn fixed(value: f64, decimals: usize) -> String {
    let decimals = decimals.min(MAX_DECIMALS);
    if value.is_nan() {
        return "NaN".to_owned();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value.is_infinite() {
        return format!("{sign}inf");
    }
    let digits = scaled_digits(value.abs(), decimals);
    let digits = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = digits.split_at(digits.len() - decimals);
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// The decimal digits of `value × 10^decimals` rounded half to even (`value` finite, ≥ 0).
fn scaled_digits(value: f64, decimals: usize) -> String {
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // value = mantissa × 2^shift exactly (subnormals have no implicit bit).
    let (mantissa, shift) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    };
    let scaled = u128::from(mantissa) * 10u128.pow(decimals as u32);
    if shift >= 0 {
        return digits(scaled, shift as u32);
    }
    let shift = shift.unsigned_abs();
    if shift > 127 {
        // Under 2^-(127 - 83): far below half a unit of the last decimal.
        return "0".to_owned();
    }
    let quotient = scaled >> shift;
    let rest = scaled & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let round_up = rest > half || (rest == half && quotient % 2 == 1);
    digits(quotient + u128::from(round_up), 0)
}

/// The decimal digits of `number × 2^shift`, however large (an `f64` reaches 2^1024). Through
/// `u64` when it fits, else in base 10^9 limbs with `u64` arithmetic only (`u128`'s formatting
/// and division are 2 KB more of WASM).
fn digits(number: u128, shift: u32) -> String {
    if let Some(small) = number
        .checked_shl(shift)
        .filter(|n| n >> shift == number)
        .and_then(|n| u64::try_from(n).ok())
    {
        return small.to_string();
    }
    // number × 2^shift = (high × 2^64 + low) × 2^shift.
    let mut limbs = Limbs(Vec::new());
    limbs.add((number >> 64) as u64);
    limbs.shift_left(64);
    limbs.add(number as u64);
    limbs.shift_left(shift);
    limbs.to_string()
}

/// A whole number in base 10^9 limbs, least significant first.
struct Limbs(Vec<u64>);

impl Limbs {
    const BASE: u64 = 1_000_000_000;

    /// Adds `number` (a limb plus under 10^9 stays far under 2^64).
    fn add(&mut self, number: u64) {
        let mut carry = number;
        for limb in &mut self.0 {
            let sum = *limb + carry % Self::BASE;
            *limb = sum % Self::BASE;
            carry = carry / Self::BASE + sum / Self::BASE;
        }
        self.push(carry);
    }

    /// Multiplies by 2^`shift`, 2^29 at a time (a limb times 2^29 stays under 2^64).
    fn shift_left(&mut self, shift: u32) {
        let mut left = shift;
        while left > 0 {
            let step = left.min(29);
            left -= step;
            let mut carry = 0;
            for limb in &mut self.0 {
                let product = (*limb << step) + carry;
                *limb = product % Self::BASE;
                carry = product / Self::BASE;
            }
            self.push(carry);
        }
    }

    /// `carry` as the most significant limbs.
    fn push(&mut self, mut carry: u64) {
        while carry > 0 {
            self.0.push(carry % Self::BASE);
            carry /= Self::BASE;
        }
    }
}

impl std::fmt::Display for Limbs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut limbs = self.0.iter().rev().skip_while(|limb| **limb == 0);
        write!(f, "{}", limbs.next().copied().unwrap_or(0))?;
        limbs.try_for_each(|limb| write!(f, "{limb:09}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_core(value: f64) {
        for decimals in 0..=MAX_DECIMALS {
            assert_eq!(
                fixed(value, decimals),
                format!("{value:.decimals$}"),
                "{value:e} with {decimals} decimals ({:#x})",
                value.to_bits()
            );
        }
    }

    #[test]
    fn ties_halves_and_signs_as_core_writes_them() {
        for value in [
            0.0,
            -0.0,
            0.125,
            0.375,
            2.5,
            3.5,
            -2.5,
            2.675,
            1.005,
            9.995,
            0.0042,
            0.0423,
            1.234,
            -0.001,
            999.9996,
            1e15,
            1e22,
            1e23,
            2f64.powi(100),
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.5,
            1.5,
            4.35,
            1234.5678,
        ] {
            same_as_core(value);
        }
        assert_eq!(fixed(f64::NAN, 2), "NaN");
        assert_eq!(fixed(f64::NEG_INFINITY, 2), "-inf");
    }

    #[test]
    fn any_bit_pattern_as_core_writes_it() {
        // xorshift64: every kind of f64, from subnormals to 1e308, and money-like amounts.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f64::from_bits(state);
            if value.is_finite() {
                same_as_core(value);
            }
            same_as_core((state % 10_000_000) as f64 / 10_000.0);
        }
    }
}
