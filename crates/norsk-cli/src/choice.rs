//! Flags that name one of the library's choices (a precision, an
//! aggregation, …): listed in `--help` from the choice's `ValueEnum`, read
//! by the library's own `FromStr`, so the command line, config files and
//! the Python module accept the same names and say the same thing about a
//! wrong one.

use std::ffi::OsStr;
use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::ValueEnum;

/// The value parser of a choice `T`: `value_parser = Choice::<T>::new()`.
#[derive(Debug)]
pub struct Choice<T>(PhantomData<fn() -> T>);

impl<T> Choice<T> {
    /// The parser.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Clone for Choice<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> TypedValueParser for Choice<T>
where
    T: ValueEnum + FromStr + Clone + Send + Sync + 'static,
    T::Err: Display,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let flag = arg.map_or_else(|| "the value".to_string(), |a| format!("'{a}'"));
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(ErrorKind::InvalidUtf8, format!("{flag} is not UTF-8\n")).with_cmd(cmd)
        })?;
        text.parse().map_err(|e| {
            clap::Error::raw(
                ErrorKind::InvalidValue,
                format!("invalid value '{text}' for {flag}: {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use norsk::{Aggregation, Precision};

    fn parse<T>(value: &str) -> Result<T, clap::Error>
    where
        T: ValueEnum + FromStr + Clone + Send + Sync + 'static,
        T::Err: Display,
    {
        let cmd = clap::Command::new("norsk");
        Choice::<T>::new().parse_ref(&cmd, None, OsStr::new(value))
    }

    #[test]
    fn the_library_reads_the_name_and_help_lists_the_choices() {
        assert_eq!(parse::<Precision>("FP32").unwrap(), Precision::F32);
        assert_eq!(parse::<Aggregation>("Max").unwrap(), Aggregation::Max);
        let err = parse::<Precision>("fp16").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(
            err.to_string().contains("expected f32, bf16 or int8"),
            "{err}"
        );
        let names: Vec<String> = Choice::<Precision>::new()
            .possible_values()
            .unwrap()
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(names, ["f32", "bf16", "int8"]);
    }
}
