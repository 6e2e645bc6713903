use crate::{Batch, BatchError, Row};

/// Runs `rows` through `run` in batches of at most `batch_size` rows, formed
/// by sorting on length so that little compute goes to padding, and returns
/// `run`'s per-row outputs in the order of `rows`.
///
/// `run` gets the batch and, for each of its rows, the row's index in
/// `rows` (the map back to the caller's windows and records); it returns one
/// output per batch row.
pub fn by_length<T, E: From<BatchError>>(
    rows: &[Row],
    batch_size: usize,
    pad_id: u32,
    mut run: impl FnMut(&[usize], &Batch) -> Result<Vec<T>, E>,
) -> Result<Vec<T>, E> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].len());
    let mut out: Vec<Option<T>> = (0..rows.len()).map(|_| None).collect();
    for chunk in order.chunks(batch_size.max(1)) {
        let members: Vec<Row> = chunk.iter().map(|&i| rows[i]).collect();
        let batch = Batch::new(&members, pad_id)?;
        let outputs = run(chunk, &batch)?;
        if outputs.len() != chunk.len() {
            return Err(BatchError::Outputs {
                rows: chunk.len(),
                outputs: outputs.len(),
            }
            .into());
        }
        for (&i, output) in chunk.iter().zip(outputs) {
            out[i] = Some(output);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_come_back_in_input_order_from_batches_of_similar_length() {
        let ids: Vec<Vec<u32>> = vec![vec![1; 5], vec![2; 1], vec![3; 4], vec![4; 2]];
        let types: Vec<Vec<u32>> = ids.iter().map(|r| vec![0; r.len()]).collect();
        let rows: Vec<Row> = ids
            .iter()
            .zip(&types)
            .map(|(i, t)| Row::new(i, t))
            .collect();
        let mut seen = Vec::new();
        let out = by_length(&rows, 2, 0, |members, batch| {
            seen.push((members.to_vec(), batch.seq_len()));
            Ok::<_, BatchError>(batch.ids().chunks(batch.seq_len()).map(|r| r[0]).collect())
        })
        .unwrap();
        assert_eq!(out, [1, 2, 3, 4]);
        assert_eq!(seen, [(vec![1, 3], 2), (vec![2, 0], 5)]);
    }

    #[test]
    fn a_run_that_returns_too_few_outputs_is_an_error() {
        let rows = [Row::new(&[1], &[0]), Row::new(&[2], &[0])];
        let out = by_length(&rows, 8, 0, |_, _| Ok::<Vec<u8>, BatchError>(vec![1]));
        assert!(matches!(
            out,
            Err(BatchError::Outputs {
                rows: 2,
                outputs: 1
            })
        ));
    }
}
