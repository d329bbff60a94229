//! Decoding of PostgreSQL binary column values into the values npm `pg` gives scripts:
//! numbers, strings for int8/numeric, dates as epoch milliseconds, intervals, arrays by
//! dimension, bytea; any other type is fetched in its text form.

use super::pg::{Val, s};
use tokio_postgres::types::{Kind, Type};

/// How a column's values are decoded.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Dec {
    Bool,
    Int,
    Oid,
    Float4,
    Float8,
    Int8,
    Numeric,
    Str,
    Json,
    Jsonb,
    Uuid,
    Timestamp,
    Date,
    Bytea,
    Interval,
    Array(Box<Dec>),
    /// Asked from the server as text.
    Text,
}

pub(super) fn dec_for(ty: &Type) -> Dec {
    match ty.oid() {
        16 => Dec::Bool,
        21 | 23 => Dec::Int,
        26 => Dec::Oid,
        700 => Dec::Float4,
        701 => Dec::Float8,
        20 => Dec::Int8,
        1700 => Dec::Numeric,
        19 | 25 | 705 | 1042 | 1043 => Dec::Str,
        114 => Dec::Json,
        3802 => Dec::Jsonb,
        2950 => Dec::Uuid,
        1114 | 1184 => Dec::Timestamp,
        1082 => Dec::Date,
        17 => Dec::Bytea,
        1186 => Dec::Interval,
        _ => match ty.kind() {
            Kind::Enum(_) => Dec::Str,
            Kind::Domain(base) => dec_for(base),
            Kind::Array(elem) => match dec_for(elem) {
                Dec::Text | Dec::Array(_) => Dec::Text,
                d => Dec::Array(Box::new(d)),
            },
            _ => Dec::Text,
        },
    }
}

/// What the facade makes of a column's numbers/buffers: `date` (an instant), `local` (a
/// timestamp or date without time zone, read as local time, as npm pg does), `bytes`.
pub(super) fn conv_for(ty: &Type) -> &'static str {
    match ty.oid() {
        1184 => "date",
        1114 | 1082 => "local",
        17 => "bytes",
        _ => match ty.kind() {
            Kind::Domain(t) | Kind::Array(t) => conv_for(t),
            _ => "",
        },
    }
}

pub(super) fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err("truncated value".into());
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

pub(super) fn int<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], String> {
    let mut a = [0u8; N];
    a.copy_from_slice(take(buf, N)?);
    Ok(a)
}

pub(super) fn exact<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into().map_err(|_| "bad value length".to_string())
}

/// Milliseconds since 1970 of 2000-01-01.
pub(super) const PG_EPOCH_MS: f64 = 946_684_800_000.0;

pub(super) fn numeric_text(raw: &[u8]) -> Result<String, String> {
    let mut b = raw;
    let mut word = || int::<2>(&mut b).map(i16::from_be_bytes);
    let (ndigits, weight, sign, dscale) = (word()?, word()?, word()? as u16, word()?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..ndigits.max(0))
        .map(|_| word())
        .collect::<Result<Vec<_>, _>>()?;
    let digit = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or(0, |d| *d)
    };
    let mut out = String::from(if sign == 0x4000 { "-" } else { "" });
    if weight < 0 {
        out.push('0');
    }
    for i in 0..=i32::from(weight) {
        let d = digit(i);
        out.push_str(&if i == 0 {
            d.to_string()
        } else {
            format!("{d:04}")
        });
    }
    let scale = usize::try_from(dscale).unwrap_or(0);
    if scale > 0 {
        let mut frac = String::new();
        let mut i = i32::from(weight) + 1;
        while frac.len() < scale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(scale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// An interval as postgres-interval (npm pg's parser) gives it: the non-zero parts.
pub(super) fn interval(raw: &[u8]) -> Result<Val, String> {
    let mut b = raw;
    let micros = i64::from_be_bytes(int(&mut b)?);
    let days = i32::from_be_bytes(int(&mut b)?);
    let months = i32::from_be_bytes(int(&mut b)?);
    let secs = micros / 1_000_000;
    let parts = [
        ("years", f64::from(months / 12)),
        ("months", f64::from(months % 12)),
        ("days", f64::from(days)),
        ("hours", (secs / 3600) as f64),
        ("minutes", ((secs / 60) % 60) as f64),
        ("seconds", (secs % 60) as f64),
        ("milliseconds", (micros % 1_000_000) as f64 / 1000.0),
    ];
    Ok(Val::Obj(
        parts
            .into_iter()
            .filter(|(_, v)| *v != 0.0)
            .map(|(k, v)| (k, Val::Num(v)))
            .collect(),
    ))
}

pub(super) fn array(elem: &Dec, raw: &[u8]) -> Result<Val, String> {
    let mut b = raw;
    let ndim = i32::from_be_bytes(int(&mut b)?);
    let _flags_and_oid = int::<8>(&mut b)?;
    if ndim <= 0 {
        return Ok(Val::Array(Vec::new()));
    }
    if ndim > 6 {
        return Err("array has too many dimensions".into());
    }
    let mut dims = Vec::new();
    let mut total: usize = 1;
    for _ in 0..ndim {
        let len = usize::try_from(i32::from_be_bytes(int(&mut b)?)).map_err(|_| "bad array")?;
        let _lower = int::<4>(&mut b)?;
        total = total.checked_mul(len).ok_or("bad array")?;
        dims.push(len);
    }
    if total.saturating_mul(4) > b.len() {
        return Err("truncated array".into());
    }
    let mut items = Vec::with_capacity(total);
    for _ in 0..total {
        let len = i32::from_be_bytes(int(&mut b)?);
        items.push(match usize::try_from(len) {
            Ok(n) => decode(elem, take(&mut b, n)?)?,
            Err(_) => Val::Null,
        });
    }
    // Nest from the innermost dimension outwards.
    for &d in dims.iter().skip(1).rev() {
        let mut it = items.into_iter().peekable();
        let mut outer = Vec::new();
        while it.peek().is_some() {
            outer.push(Val::Array(it.by_ref().take(d).collect()));
        }
        items = outer;
    }
    Ok(Val::Array(items))
}

pub(super) fn utf8(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes one binary value ([`Dec::Text`] values are asked from the server instead).
pub(super) fn decode(dec: &Dec, raw: &[u8]) -> Result<Val, String> {
    Ok(match dec {
        Dec::Bool => Val::Bool(raw.first().is_some_and(|b| *b != 0)),
        Dec::Int if raw.len() == 2 => Val::Num(i16::from_be_bytes(exact(raw)?).into()),
        Dec::Int => Val::Num(i32::from_be_bytes(exact(raw)?).into()),
        Dec::Oid => Val::Num(u32::from_be_bytes(exact(raw)?).into()),
        Dec::Float4 => Val::Num(f32::from_be_bytes(exact(raw)?).into()),
        Dec::Float8 => Val::Num(f64::from_be_bytes(exact(raw)?)),
        Dec::Int8 => s(i64::from_be_bytes(exact(raw)?).to_string()),
        Dec::Numeric => s(numeric_text(raw)?),
        Dec::Str => s(utf8(raw)),
        Dec::Json => Val::Json(utf8(raw)),
        Dec::Jsonb => match raw.split_first() {
            Some((1, rest)) => Val::Json(utf8(rest)),
            _ => return Err("unknown jsonb version".into()),
        },
        Dec::Uuid => {
            let h = hex(&exact::<16>(raw)?);
            let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
            s([
                part(0, 8),
                part(8, 12),
                part(12, 16),
                part(16, 20),
                part(20, 32),
            ]
            .join("-"))
        }
        Dec::Timestamp => match i64::from_be_bytes(exact(raw)?) {
            i64::MAX => Val::Num(f64::INFINITY),
            i64::MIN => Val::Num(f64::NEG_INFINITY),
            us => Val::Num(PG_EPOCH_MS + us.div_euclid(1000) as f64),
        },
        Dec::Date => match i32::from_be_bytes(exact(raw)?) {
            i32::MAX => Val::Num(f64::INFINITY),
            i32::MIN => Val::Num(f64::NEG_INFINITY),
            d => Val::Num(PG_EPOCH_MS + f64::from(d) * 86_400_000.0),
        },
        Dec::Bytea => Val::Bytes(raw.to_vec()),
        Dec::Interval => interval(raw)?,
        Dec::Array(elem) => array(elem, raw)?,
        Dec::Text => Val::Null,
    })
}

// --- queries --------------------------------------------------------------------------------
