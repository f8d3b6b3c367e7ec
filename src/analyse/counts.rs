//! The grouped counts every statistic starts from, computed with polars: per dimension,
//! period and group, the records, the respondents, and per theme the records that mention it
//! and the records where it is a concern.

use polars::prelude::*;

use super::AnalyseError;

/// Input: one entry per record, plus the (record, theme, is_concern) pairs.
#[derive(Debug, Clone, Copy)]
pub struct CountInput<'a> {
    /// Per record: its month's index into `months` (the period).
    pub month: &'a [u32],
    /// Number of months.
    pub months: usize,
    /// Per dimension, per record: group id.
    pub groups: &'a [Vec<u32>],
    /// Groups per dimension.
    pub n_groups: &'a [usize],
    /// Per record: whether it is the first record of its response (counts the respondent).
    pub first_of_response: &'a [bool],
    /// (record, theme, is_concern), each record × theme at most once.
    pub pairs: &'a [(u32, u32, bool)],
    /// Themes.
    pub n_themes: usize,
}

/// Dense counts for one dimension: `[period][group]` and `[period][group][theme]`, where
/// period 0 is the whole run and period `m + 1` is month `m`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DimCounts {
    /// Records.
    pub records: Vec<Vec<i64>>,
    /// Respondents (first record of each response).
    pub respondents: Vec<Vec<i64>>,
    /// Records mentioning each theme.
    pub mentions: Vec<Vec<Vec<i64>>>,
    /// Records where each theme is a concern.
    pub concerns: Vec<Vec<Vec<i64>>>,
}

fn u32s(frame: &DataFrame, name: &str) -> Result<Vec<u32>, AnalyseError> {
    let a = frame.column(name)?.u32()?.clone();
    Ok((0..a.len()).map(|i| a.get(i).unwrap_or(0)).collect())
}

fn i64s(frame: &DataFrame, name: &str) -> Result<Vec<i64>, AnalyseError> {
    let c = frame.column(name)?.cast(&DataType::Int64)?;
    let a = c.i64()?;
    Ok((0..a.len()).map(|i| a.get(i).unwrap_or(0)).collect())
}

/// Counts every dimension.
///
/// # Errors
/// When polars fails.
pub fn count(input: &CountInput<'_>) -> Result<Vec<DimCounts>, AnalyseError> {
    let periods = input.months + 1;
    let rec: Vec<u32> = input.pairs.iter().map(|p| p.0).collect();
    let theme: Vec<u32> = input.pairs.iter().map(|p| p.1).collect();
    let concern: Vec<bool> = input.pairs.iter().map(|p| p.2).collect();
    let pair_month: Vec<u32> = rec.iter().map(|&r| input.month[r as usize]).collect();
    let first: Vec<bool> = input.first_of_response.to_vec();
    let mut out = Vec::with_capacity(input.groups.len());
    for (d, groups) in input.groups.iter().enumerate() {
        let n_groups = input.n_groups[d];
        let people = DataFrame::new_infer_height(vec![
            Column::new("month".into(), input.month),
            Column::new("grp".into(), groups.as_slice()),
            Column::new("first".into(), first.as_slice()),
        ])?
        .lazy()
        .group_by([col("month"), col("grp")])
        .agg([len().alias("records"), col("first").sum().alias("respondents")])
        .collect()?;
        let pair_group: Vec<u32> = rec.iter().map(|&r| groups[r as usize]).collect();
        let themes = DataFrame::new_infer_height(vec![
            Column::new("month".into(), pair_month.as_slice()),
            Column::new("grp".into(), pair_group),
            Column::new("theme".into(), theme.as_slice()),
            Column::new("concern".into(), concern.as_slice()),
        ])?
        .lazy()
        .group_by([col("month"), col("grp"), col("theme")])
        .agg([len().alias("mentions"), col("concern").sum().alias("concerns")])
        .collect()?;

        let mut c = DimCounts {
            records: vec![vec![0; n_groups]; periods],
            respondents: vec![vec![0; n_groups]; periods],
            mentions: vec![vec![vec![0; input.n_themes]; n_groups]; periods],
            concerns: vec![vec![vec![0; input.n_themes]; n_groups]; periods],
        };
        let (m, g, r, f) =
            (u32s(&people, "month")?, u32s(&people, "grp")?, i64s(&people, "records")?, i64s(&people, "respondents")?);
        for i in 0..m.len() {
            let (p, g) = (m[i] as usize + 1, g[i] as usize);
            for period in [0, p] {
                c.records[period][g] += r[i];
                c.respondents[period][g] += f[i];
            }
        }
        let (m, g, t, n, k) = (
            u32s(&themes, "month")?,
            u32s(&themes, "grp")?,
            u32s(&themes, "theme")?,
            i64s(&themes, "mentions")?,
            i64s(&themes, "concerns")?,
        );
        for i in 0..m.len() {
            let (p, g, t) = (m[i] as usize + 1, g[i] as usize, t[i] as usize);
            for period in [0, p] {
                c.mentions[period][g][t] += n[i];
                c.concerns[period][g][t] += k[i];
            }
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_period_group_and_theme() {
        // 4 records in 2 months; one dimension with groups 0,0,1,1; records 0 and 1 are one response
        let month = [0, 0, 1, 1];
        let groups = vec![vec![0, 0, 1, 1]];
        let first = [true, false, true, true];
        let pairs = [(0, 0, false), (1, 0, true), (1, 1, true), (2, 1, false), (3, 1, true)];
        let input = CountInput {
            month: &month,
            months: 2,
            groups: &groups,
            n_groups: &[2],
            first_of_response: &first,
            pairs: &pairs,
            n_themes: 2,
        };
        let c = &count(&input).unwrap()[0];
        assert_eq!(c.records, vec![vec![2, 2], vec![2, 0], vec![0, 2]]);
        assert_eq!(c.respondents[0], vec![1, 2]);
        assert_eq!(c.mentions[0], vec![vec![2, 1], vec![0, 2]]);
        assert_eq!(c.concerns[0], vec![vec![1, 1], vec![0, 1]]);
        assert_eq!(c.mentions[2], vec![vec![0, 0], vec![0, 2]], "month 2 only");
    }
}
