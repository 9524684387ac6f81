//! The Shopify Product Taxonomy (2024-07, MIT): categories with their paths and tree.

/// One category: `gid://shopify/TaxonomyCategory/aa-8-10`, `Apparel & Accessories > Shoes > Heels`.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// `gid://shopify/TaxonomyCategory/...`.
    pub id: String,
    /// Full path, `A > B > C`.
    pub path: String,
    /// 0 for a top-level category.
    pub depth: usize,
    /// Index of the parent category, if any.
    pub parent: Option<usize>,
}

impl Category {
    /// The last part of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit(" > ").next().unwrap_or(&self.path)
    }
}

/// Every category, parents before children.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    /// In file order.
    pub categories: Vec<Category>,
}

/// Why a taxonomy file could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// A line is not `gid : path`.
    #[error("line {line}: expected `gid : path`")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// A category comes before its parent.
    #[error("line {line}: parent of {path} is not listed before it")]
    Orphan {
        /// 1-based line number.
        line: usize,
        /// The category whose parent is missing.
        path: String,
    },
}

impl Taxonomy {
    /// Parses `categories.txt`: `gid : A > B > C` per line, `#` comments, parents first.
    pub fn parse(text: &str) -> Result<Self, TaxonomyError> {
        let mut categories: Vec<Category> = Vec::new();
        let mut by_path = std::collections::HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, path) = line
                .split_once(" : ")
                .ok_or(TaxonomyError::Malformed { line: line_no })?;
            let (id, path) = (id.trim(), path.trim());
            if !id.starts_with("gid://shopify/TaxonomyCategory/") || path.is_empty() {
                return Err(TaxonomyError::Malformed { line: line_no });
            }
            let parent = match path.rsplit_once(" > ") {
                Some((parent_path, _)) => {
                    Some(
                        *by_path
                            .get(parent_path)
                            .ok_or_else(|| TaxonomyError::Orphan {
                                line: line_no,
                                path: path.to_owned(),
                            })?,
                    )
                }
                None => None,
            };
            by_path.insert(path.to_owned(), categories.len());
            categories.push(Category {
                id: id.to_owned(),
                path: path.to_owned(),
                depth: path.matches(" > ").count(),
                parent,
            });
        }
        Ok(Self { categories })
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// Index of the category with this full path.
    pub fn find_path(&self, path: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.path == path)
    }

    /// Index of the category with this gid.
    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.id == id)
    }

    /// True when `category` is `ancestor` or lies below it.
    pub fn is_within(&self, category: usize, ancestor: usize) -> bool {
        let mut current = Some(category);
        while let Some(index) = current {
            if index == ancestor {
                return true;
            }
            current = self.categories.get(index).and_then(|c| c.parent);
        }
        false
    }

    /// The text embedded for a category: its path read as a phrase, leaf first, so the
    /// specific name dominates ("Heels, Shoes, Apparel & Accessories").
    pub fn embedding_text(&self, index: usize) -> String {
        let path = &self.categories[index].path;
        path.rsplit(" > ").collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\n\
        gid://shopify/TaxonomyCategory/aa : Apparel & Accessories\n\
        gid://shopify/TaxonomyCategory/aa-8 : Apparel & Accessories > Shoes\n\
        gid://shopify/TaxonomyCategory/aa-8-10 : Apparel & Accessories > Shoes > Heels\n";

    #[test]
    fn parses_paths_and_the_tree() {
        let taxonomy = Taxonomy::parse(SAMPLE).expect("parses");
        assert_eq!(taxonomy.len(), 3);
        let heels = taxonomy
            .find_path("Apparel & Accessories > Shoes > Heels")
            .expect("heels");
        assert_eq!(taxonomy.categories[heels].name(), "Heels");
        assert_eq!(taxonomy.categories[heels].depth, 2);
        assert!(taxonomy.is_within(heels, 0));
        assert!(!taxonomy.is_within(0, heels));
        assert_eq!(
            taxonomy.embedding_text(heels),
            "Heels, Shoes, Apparel & Accessories"
        );
    }

    #[test]
    fn rejects_orphans_and_garbage() {
        assert!(Taxonomy::parse("gid://shopify/TaxonomyCategory/x : A > B\n").is_err());
        assert!(Taxonomy::parse("not a category\n").is_err());
    }

    #[test]
    fn the_shipped_taxonomy_parses() {
        let text = crate::products::SHOPIFY_TAXONOMY;
        let taxonomy = Taxonomy::parse(text).expect("parses");
        assert_eq!(taxonomy.len(), 10_281);
    }
}
