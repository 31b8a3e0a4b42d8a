//! `resource.Quantity` as Go parses and prints it.
//!
//! Go keeps the value exactly and remembers which notation it was written in (decimal SI
//! suffixes, binary SI suffixes, or a decimal exponent); printing puts it in canonical form, the
//! largest suffix that keeps an integer mantissa (`1000m` prints `1`, `1024Mi` prints `1Gi`,
//! `0.5` prints `500m`). Values finer than a nano-unit round up to one.

// === impl Quantity ===

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// A parsed quantity: `mantissa × 10^exponent`, and the notation it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    mantissa: i128,
    exponent: i32,
    format: Format,
}

const DECIMAL_SUFFIXES: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];
const BINARY_SUFFIXES: [(&str, u32); 6] = [
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

impl Quantity {
    /// Parses a quantity the way `resource.ParseQuantity` does.
    pub(crate) fn parse(text: &str) -> Result<Quantity, String> {
        const WRONG: &str = "quantities must match the regular expression \
                             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        if text.is_empty() {
            return Err(WRONG.into());
        }
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first()
            && (c == b'-' || c == b'+')
        {
            negative = c == b'-';
            pos += 1;
        }
        let digits_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let num = &text[digits_start..pos];
        let mut denom = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            denom = &text[start..pos];
        }
        let suffix = &text[pos..];
        if !suffix.is_empty() {
            let letters = suffix
                .find(|c: char| !"eEinumkKMGTP".contains(c))
                .unwrap_or(suffix.len());
            let rest = &suffix[letters..];
            let rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
            if !rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(WRONG.into());
            }
        }
        let digits = format!("{num}{denom}");
        let digits = digits.trim_start_matches('0');
        let mut mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| "quantity is too large".to_string())?
        };
        let mut exponent = -(denom.len() as i32);
        let format = if let Some((_, e)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
            exponent += e;
            Format::DecimalSi
        } else if let Some((_, shift)) = BINARY_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
            mantissa = mantissa
                .checked_mul(1i128 << shift)
                .ok_or_else(|| "quantity is too large".to_string())?;
            Format::BinarySi
        } else if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) {
            let e: i32 = suffix[1..]
                .parse()
                .map_err(|_| "unable to parse quantity's suffix".to_string())?;
            exponent = exponent
                .checked_add(e)
                .ok_or_else(|| "quantity is too large".to_string())?;
            Format::DecimalExponent
        } else {
            return Err("unable to parse quantity's suffix".into());
        };
        if negative {
            mantissa = -mantissa;
        }
        let mut q = Quantity {
            mantissa,
            exponent,
            format,
        };
        q.round_to_nano();
        if q.format == Format::BinarySi && q.mantissa != 0 && q.abs_below_one() {
            q.format = Format::DecimalSi;
        }
        Ok(q)
    }

    fn round_to_nano(&mut self) {
        if self.exponent >= -9 || self.mantissa == 0 {
            return;
        }
        let shift = (-9 - self.exponent) as u32;
        let Some(div) = 10i128.checked_pow(shift) else {
            self.mantissa = self.mantissa.signum();
            self.exponent = -9;
            return;
        };
        let q = self.mantissa / div;
        let r = self.mantissa % div;
        // Away from zero, as inf.RoundUp does.
        self.mantissa = if r != 0 {
            q + self.mantissa.signum()
        } else {
            q
        };
        self.exponent = -9;
    }

    fn abs_below_one(&self) -> bool {
        if self.exponent >= 0 {
            return false;
        }
        match 10i128.checked_pow((-self.exponent) as u32) {
            Some(p) => self.mantissa.abs() < p,
            None => true,
        }
    }

    /// The integer value, when it is one.
    fn as_integer(&self) -> Option<i128> {
        if self.exponent >= 0 {
            return 10i128
                .checked_pow(self.exponent as u32)
                .and_then(|p| self.mantissa.checked_mul(p));
        }
        let p = 10i128.checked_pow((-self.exponent) as u32)?;
        (self.mantissa % p == 0).then(|| self.mantissa / p)
    }

    /// `Quantity.String()`.
    pub(crate) fn canonical(&self) -> String {
        if self.mantissa == 0 {
            return "0".into();
        }
        let mut format = self.format;
        if format == Format::BinarySi {
            match self.as_integer() {
                Some(i) if i.abs() >= 1024 => {
                    let mut amount = i;
                    let mut times = 0;
                    while amount % 1024 == 0 && times < BINARY_SUFFIXES.len() {
                        amount /= 1024;
                        times += 1;
                    }
                    let suffix = if times == 0 {
                        ""
                    } else {
                        BINARY_SUFFIXES[times - 1].0
                    };
                    return format!("{amount}{suffix}");
                }
                _ => format = Format::DecimalSi,
            }
        }
        let (mut amount, mut exponent) = (self.mantissa, self.exponent);
        while amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        while exponent.rem_euclid(3) != 0 {
            amount *= 10;
            exponent -= 1;
        }
        match format {
            Format::DecimalExponent if exponent == 0 => format!("{amount}"),
            Format::DecimalExponent => format!("{amount}e{exponent}"),
            _ => match DECIMAL_SUFFIXES.iter().find(|(_, e)| *e == exponent) {
                Some((suffix, _)) => format!("{amount}{suffix}"),
                None => format!("{amount}e{exponent}"),
            },
        }
    }

    /// A key equal for equal values whatever the notation (`Quantity.Cmp(other) == 0`).
    pub(crate) fn value_key(&self) -> String {
        let (mut amount, mut exponent) = (self.mantissa, self.exponent);
        if amount == 0 {
            return "0".into();
        }
        while amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        format!("{amount}e{exponent}")
    }
}
