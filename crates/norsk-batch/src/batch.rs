use crate::BatchError;

/// One model input row: token ids and their segment (token type) ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// Token ids, special tokens included.
    pub ids: &'a [u32],
    /// Segment ids, one per token.
    pub type_ids: &'a [u32],
}

impl<'a> Row<'a> {
    /// A row of `ids` and `type_ids`.
    pub fn new(ids: &'a [u32], type_ids: &'a [u32]) -> Self {
        Self { ids, type_ids }
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the row has no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Rows of token ids padded to one length, flat in row-major order: what a
/// model runs in one pass. Padding positions hold the pad id and type 0 and
/// are outside each row's length, which is what the attention mask says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    ids: Vec<u32>,
    type_ids: Vec<u32>,
    lengths: Vec<usize>,
    seq_len: usize,
}

impl Batch {
    /// Pads `rows` with `pad_id` to the longest of them.
    pub fn new(rows: &[Row], pad_id: u32) -> Result<Self, BatchError> {
        let longest = rows.iter().map(Row::len).max().unwrap_or(0);
        Self::padded_to(rows, pad_id, longest)
    }

    /// Pads `rows` with `pad_id` to `seq_len` tokens, as a fixed-length
    /// batch; a row longer than `seq_len` is an error.
    pub fn padded_to(rows: &[Row], pad_id: u32, seq_len: usize) -> Result<Self, BatchError> {
        let mut ids = vec![pad_id; rows.len() * seq_len];
        let mut type_ids = vec![0u32; rows.len() * seq_len];
        for (i, row) in rows.iter().enumerate() {
            if row.len() > seq_len {
                return Err(BatchError::RowTooLong {
                    len: row.len(),
                    seq: seq_len,
                });
            }
            if row.type_ids.len() != row.len() {
                return Err(BatchError::TypeIds {
                    row: i,
                    ids: row.len(),
                    type_ids: row.type_ids.len(),
                });
            }
            let start = i * seq_len;
            ids[start..start + row.len()].copy_from_slice(row.ids);
            type_ids[start..start + row.len()].copy_from_slice(row.type_ids);
        }
        Ok(Self {
            ids,
            type_ids,
            lengths: rows.iter().map(Row::len).collect(),
            seq_len,
        })
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.lengths.len()
    }

    /// The padded length of every row.
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// Token ids, `rows × seq_len`, padded.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Segment ids, `rows × seq_len`, 0 at padding.
    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }

    /// Each row's count of real tokens.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// 1 for real tokens and 0 for padding, `rows × seq_len`.
    pub fn attention_mask(&self) -> Vec<u32> {
        let mut mask = vec![0u32; self.ids.len()];
        for (row, &len) in mask.chunks_mut(self.seq_len.max(1)).zip(&self.lengths) {
            row[..len].fill(1);
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_padded_to_the_longest_and_masked() {
        let batch = Batch::new(
            &[Row::new(&[2, 7, 3], &[0, 0, 1]), Row::new(&[2, 3], &[0, 0])],
            0,
        )
        .unwrap();
        assert_eq!((batch.rows(), batch.seq_len()), (2, 3));
        assert_eq!(batch.ids(), [2, 7, 3, 2, 3, 0]);
        assert_eq!(batch.type_ids(), [0, 0, 1, 0, 0, 0]);
        assert_eq!(batch.lengths(), [3, 2]);
        assert_eq!(batch.attention_mask(), [1, 1, 1, 1, 1, 0]);
    }

    #[test]
    fn a_fixed_length_batch_pads_every_row_and_refuses_a_longer_one() {
        let batch = Batch::padded_to(&[Row::new(&[5], &[0])], 9, 4).unwrap();
        assert_eq!(batch.ids(), [5, 9, 9, 9]);
        assert_eq!(
            Batch::padded_to(&[Row::new(&[1, 2, 3], &[0, 0, 0])], 0, 2),
            Err(BatchError::RowTooLong { len: 3, seq: 2 })
        );
    }

    #[test]
    fn type_ids_must_match_the_ids() {
        assert_eq!(
            Batch::new(&[Row::new(&[1, 2], &[0])], 0),
            Err(BatchError::TypeIds {
                row: 0,
                ids: 2,
                type_ids: 1
            })
        );
    }

    #[test]
    fn an_empty_batch_has_no_rows() {
        let batch = Batch::new(&[], 0).unwrap();
        assert_eq!((batch.rows(), batch.seq_len()), (0, 0));
        assert!(batch.attention_mask().is_empty());
    }
}
