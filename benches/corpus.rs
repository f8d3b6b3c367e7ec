//! The fixed bench corpus: the free text of data-samples/feedback.csv.gz (35,000 records).

use unheard::record::Question;

pub(crate) fn texts() -> Vec<(String, Question)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples/feedback.csv.gz");
    let file = std::fs::File::open(path).expect("data-samples/feedback.csv.gz is in the repository");
    let mut reader = csv::Reader::from_reader(flate2::read::GzDecoder::new(file));
    let headers = reader.headers().unwrap().clone();
    let text = headers.iter().position(|h| h == "text").unwrap();
    let question = headers.iter().position(|h| h == "question").unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[text].to_owned(), Question::parse(&r[question]).unwrap_or(Question::Nonspecific))
        })
        .collect()
}
