//! The sequence-classification head (pooler + classifier) gives the logits
//! transformers gives on the tiny fixture classifier.

mod common;

use common::{f32s, fixture, max_abs_diff, reference, single_input, u32s};
use norsk_model::{Precision, SequenceClassifier};

#[test]
fn sequence_logits_match_transformers() {
    let reference = reference("cls_reference.json");
    let model = SequenceClassifier::load(&fixture("tiny-cls"), Precision::F32).unwrap();
    let labels: Vec<String> = serde_json::from_value(reference["labels"].clone()).unwrap();
    assert_eq!(model.labels(), labels.as_slice());
    let mut worst = 0.0f32;
    for case in reference["cases"].as_array().unwrap() {
        let ids = u32s(&case["input_ids"]);
        let logits: Vec<f32> = model
            .forward(&single_input(&ids, &vec![0; ids.len()]))
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        worst = worst.max(max_abs_diff(&logits, &f32s(&case["logits"])));
    }
    eprintln!("tiny-cls: max |logit difference| {worst:e}");
    assert!(worst <= 1e-4, "max logit difference {worst}");
}
