//! Theme × demographic group crosstab: counts, group totals and rates.

use polars::prelude::*;

use super::AnalyseError;

/// One row of `theme_by_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct CrosstabRow {
    /// Index into the dimension list.
    pub dimension: u32,
    /// Index into that dimension's group list.
    pub group: u32,
    /// Index into the theme list.
    pub theme: u32,
    /// Records in the group.
    pub group_n: i64,
    /// Records in the group coded with the theme.
    pub theme_n: i64,
    /// `theme_n / group_n`.
    pub rate: f64,
}

/// Crosstabs themes by group for every dimension. `groups[d][r]` is record `r`'s group id in
/// dimension `d`; `record_themes` holds `(record, theme)` pairs (each pair at most once).
/// Every (dimension, group, theme) cell is present, zeros included, sorted by
/// dimension, group id, theme.
///
/// # Errors
/// When polars fails.
pub fn theme_by_group(
    groups: &[Vec<u32>],
    record_themes: &[(u32, u32)],
    n_themes: u32,
) -> Result<Vec<CrosstabRow>, AnalyseError> {
    let n_records = groups.first().map_or(0, Vec::len);
    let mut rec = Vec::with_capacity(n_records * groups.len());
    let mut dim = Vec::with_capacity(n_records * groups.len());
    let mut grp = Vec::with_capacity(n_records * groups.len());
    for (d, g) in groups.iter().enumerate() {
        rec.extend(0..g.len() as u32);
        dim.extend(std::iter::repeat_n(d as u32, g.len()));
        grp.extend_from_slice(g);
    }
    let people = DataFrame::new_infer_height(vec![
        Column::new("rec".into(), rec),
        Column::new("dim".into(), dim),
        Column::new("grp".into(), grp),
    ])?
    .lazy();
    let themes = DataFrame::new_infer_height(vec![
        Column::new("rec".into(), record_themes.iter().map(|p| p.0).collect::<Vec<u32>>()),
        Column::new("theme".into(), record_themes.iter().map(|p| p.1).collect::<Vec<u32>>()),
    ])?
    .lazy();
    let theme_list =
        DataFrame::new_infer_height(vec![Column::new("theme".into(), (0..n_themes).collect::<Vec<u32>>())])?.lazy();

    let totals = people.clone().group_by([col("dim"), col("grp")]).agg([len().cast(DataType::Int64).alias("group_n")]);
    let counts = people
        .join(themes, [col("rec")], [col("rec")], JoinArgs::new(JoinType::Inner))
        .group_by([col("dim"), col("grp"), col("theme")])
        .agg([len().cast(DataType::Int64).alias("theme_n")]);
    let keys = [col("dim"), col("grp"), col("theme")];
    let out = totals
        .cross_join(theme_list, None)
        .join(counts, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_column(col("theme_n").fill_null(lit(0i64)))
        .with_column((col("theme_n").cast(DataType::Float64) / col("group_n").cast(DataType::Float64)).alias("rate"))
        .sort(["dim", "grp", "theme"], SortMultipleOptions::default())
        .collect()?;

    let d = out.column("dim")?.u32()?;
    let g = out.column("grp")?.u32()?;
    let t = out.column("theme")?.u32()?;
    let gn = out.column("group_n")?.i64()?;
    let tn = out.column("theme_n")?.i64()?;
    let r = out.column("rate")?.f64()?;
    let rows = (0..out.height())
        .map(|i| CrosstabRow {
            dimension: d.get(i).unwrap_or(0),
            group: g.get(i).unwrap_or(0),
            theme: t.get(i).unwrap_or(0),
            group_n: gn.get(i).unwrap_or(0),
            theme_n: tn.get(i).unwrap_or(0),
            rate: r.get(i).unwrap_or(f64::NAN),
        })
        .collect();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rates_and_zero_cells() {
        // 4 records; one dimension with groups 0,0,1,1; themes: r0:{0}, r1:{0,1}, r2:{1}
        let groups = vec![vec![0, 0, 1, 1]];
        let pairs = vec![(0, 0), (1, 0), (1, 1), (2, 1)];
        let rows = theme_by_group(&groups, &pairs, 3).unwrap();
        assert_eq!(rows.len(), 2 * 3, "every group × theme cell, zeros included");
        let cell = |g: u32, t: u32| rows.iter().find(|r| r.group == g && r.theme == t).unwrap().clone();
        assert_eq!((cell(0, 0).theme_n, cell(0, 0).group_n), (2, 2));
        assert_eq!(cell(0, 1).theme_n, 1);
        assert_eq!(cell(1, 1).theme_n, 1);
        assert_eq!(cell(1, 0).theme_n, 0);
        assert_eq!(cell(1, 2).rate, 0.0);
        assert!((cell(0, 1).rate - 0.5).abs() < 1e-12);
        let order: Vec<(u32, u32)> = rows.iter().map(|r| (r.group, r.theme)).collect();
        assert_eq!(order, vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    }
}
