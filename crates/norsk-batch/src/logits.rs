use crate::BatchError;

/// A model's output for a batch: f32 values in row-major order with their
/// shape, the batch's rows first.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    values: Vec<f32>,
    shape: Vec<usize>,
}

impl Logits {
    /// Logits of `shape`; `values` must fill it exactly.
    pub fn new(values: Vec<f32>, shape: Vec<usize>) -> Result<Self, BatchError> {
        if shape.iter().product::<usize>() != values.len() || shape.is_empty() {
            return Err(BatchError::Shape {
                values: values.len(),
                shape,
            });
        }
        Ok(Self { values, shape })
    }

    /// The shape, batch rows first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// `[rows, n]` logits as one vector per row.
    pub fn into_vec2(self) -> Result<Vec<Vec<f32>>, BatchError> {
        let [_, n] = self.dims::<2>()?;
        Ok(split(self.values, n))
    }

    /// `[rows, seq, n]` logits as one vector per position of each row.
    pub fn into_vec3(self) -> Result<Vec<Vec<Vec<f32>>>, BatchError> {
        let [_, seq, n] = self.dims::<3>()?;
        let positions = split(self.values, n);
        let mut rows = Vec::with_capacity(positions.len() / seq.max(1));
        let mut positions = positions.into_iter();
        while positions.len() > 0 {
            rows.push(positions.by_ref().take(seq).collect());
        }
        Ok(rows)
    }

    fn dims<const N: usize>(&self) -> Result<[usize; N], BatchError> {
        self.shape
            .as_slice()
            .try_into()
            .map_err(|_| BatchError::Rank {
                shape: self.shape.clone(),
                wanted: N,
            })
    }
}

/// `values` cut into vectors of `n` (none when `n` is 0).
fn split(values: Vec<f32>, n: usize) -> Vec<Vec<f32>> {
    if n == 0 {
        return Vec::new();
    }
    values.chunks(n).map(<[f32]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_positions_come_back_in_order() {
        let two = Logits::new(vec![1., 2., 3., 4., 5., 6.], vec![3, 2]).unwrap();
        assert_eq!(
            two.clone().into_vec2().unwrap(),
            [vec![1., 2.], vec![3., 4.], vec![5., 6.]]
        );
        let three = Logits::new((0..12).map(|v| v as f32).collect(), vec![2, 3, 2]).unwrap();
        let rows = three.into_vec3().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], [vec![6., 7.], vec![8., 9.], vec![10., 11.]]);
        assert!(matches!(
            two.into_vec3(),
            Err(BatchError::Rank { wanted: 3, .. })
        ));
    }

    #[test]
    fn values_must_fill_the_shape() {
        assert!(Logits::new(vec![1., 2., 3.], vec![2, 2]).is_err());
        assert!(Logits::new(vec![], vec![]).is_err());
        assert_eq!(
            Logits::new(vec![], vec![0, 4])
                .unwrap()
                .into_vec2()
                .unwrap()
                .len(),
            0
        );
    }
}
