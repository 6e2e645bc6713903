//! One bad record costs only itself: a batch call that fails is run again
//! record by record, so that only the records that fail on their own get
//! an error.

/// `run` over the items that are `Ok`, in one call; when that call fails,
/// one call per item. Gives one result per item, in order: the output, or
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
        run(&usable)
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
    run(std::slice::from_ref(&item))
        .map_err(|e| one_line(&e))?
        .pop()
        .ok_or_else(|| "no result for this record".to_string())
}

/// An error and its causes on one line, without the backtrace some
/// libraries (candle) put after their message.
fn one_line(e: &anyhow::Error) -> String {
    let causes: Vec<String> = e
        .chain()
        .filter_map(|cause| cause.to_string().lines().next().map(str::to_string))
        .collect();
    causes.join(": ")
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
}
