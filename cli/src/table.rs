//! The one table formatter of exbus (demo, hz, types; public for bench): columns sized
//! to their widest cell, counted in characters, text left-aligned and numbers
//! right-aligned, two spaces between columns, no trailing spaces.

use std::fmt;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// A table: a header row and rows of cells, printed with `Display`.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns: the `left`-aligned ones (text) first, then the
    /// `right`-aligned ones (numbers), as every exbus table has them.
    pub fn new(left: &[&str], right: &[&str]) -> Self {
        let columns = left.iter().map(|n| (n, Align::Left)).chain(right.iter().map(|n| (n, Align::Right)));
        let (header, align) = columns.map(|(name, a)| ((*name).to_owned(), a)).unzip();
        Table { header, align, rows: Vec::new() }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).take(self.header.len()).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
        self
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = |i: usize| {
            std::iter::once(&self.header[i])
                .chain(self.rows.iter().map(|r| &r[i]))
                .map(|c| c.chars().count())
                .max()
        };
        let widths: Vec<usize> = (0..self.header.len()).map(|i| width(i).unwrap_or(0)).collect();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i] - cell.chars().count());
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_whatever_the_cell_widths() {
        let mut t = Table::new(&["name"], &["n"]);
        t.row(["é-long-name", "1"]).row(["x", "12345"]);
        let text = t.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["name             n", "é-long-name      1", "x            12345"]);
    }
}
