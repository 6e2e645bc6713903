//! One bad record costs only itself: a batch call that fails (or panics)
//! is run again record by record, so that only the records that fail on
//! their own get an error.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// `run` over the items that are `Ok`, in one call; when that call fails
/// or panics, one call per item. Gives one result per item, in order: the output, or
/// why there is none (the item's own error, or the error of its call).
pub fn each<T: Copy, R>(
    items: &[Result<T, String>],
    run: impl Fn(&[T]) -> anyhow::Result<Vec<R>>,
) -> Vec<Result<R, String>> {
    let usable: Vec<T> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().copied())
        .collect();
    let batch = if usable.is_empty() {
        Ok(Vec::new())
    } else {
        guarded(&run, &usable)
    };
    let mut outputs: Vec<Result<R, String>> = match batch {
        Ok(outputs) if outputs.len() == usable.len() => outputs.into_iter().map(Ok).collect(),
        _ => usable.iter().map(|item| alone(&run, *item)).collect(),
    };
    outputs.reverse();
    items
        .iter()
        .map(|item| match item {
            Ok(_) => outputs
                .pop()
                .unwrap_or_else(|| Err("no result for this record".to_string())),
            Err(e) => Err(e.clone()),
        })
        .collect()
}

/// `run` over one item.
fn alone<T, R>(run: impl Fn(&[T]) -> anyhow::Result<Vec<R>>, item: T) -> Result<R, String> {
    guarded(&run, std::slice::from_ref(&item))
        .map_err(|e| norsk_io::error_message(e.as_ref()))?
        .pop()
        .ok_or_else(|| "no result for this record".to_string())
}

/// `run` over `items`, a panic inside it (a bug, in norsk or a library)
/// turned into an error, so that it costs only its records.
fn guarded<T, R>(
    run: &impl Fn(&[T]) -> anyhow::Result<Vec<R>>,
    items: &[T],
) -> anyhow::Result<Vec<R>> {
    catch_unwind(AssertUnwindSafe(|| run(items))).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        Err(anyhow::anyhow!(
            "internal error (a panic, please report it): {message}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles numbers; a batch holding 13 fails as a whole.
    fn double(items: &[u32]) -> anyhow::Result<Vec<u32>> {
        if items.contains(&13) {
            anyhow::bail!("13 is unlucky");
        }
        Ok(items.iter().map(|i| i * 2).collect())
    }

    #[test]
    fn only_the_failing_item_gets_an_error() {
        let items = [Ok(1), Err("empty text".to_string()), Ok(13), Ok(4)];
        let out = each(&items, double);
        assert_eq!(
            out,
            [
                Ok(2),
                Err("empty text".into()),
                Err("13 is unlucky".into()),
                Ok(8)
            ]
        );
        assert_eq!(each(&[Ok(1), Ok(2)], double), [Ok(2), Ok(4)]);
        assert_eq!(each::<u32, u32>(&[], double), []);
    }

    #[test]
    fn a_panic_costs_only_its_item() {
        let halve = |items: &[u32]| -> anyhow::Result<Vec<u32>> {
            Ok(items
                .iter()
                .map(|&i| {
                    assert!(i % 2 == 0, "odd {i}");
                    i / 2
                })
                .collect())
        };
        let out = each(&[Ok(2), Ok(3), Ok(8)], halve);
        assert_eq!(out[0], Ok(1));
        assert_eq!(out[2], Ok(4));
        let err = out[1].as_ref().unwrap_err();
        assert!(
            err.contains("internal error") && err.contains("odd 3"),
            "{err}"
        );
    }
}
