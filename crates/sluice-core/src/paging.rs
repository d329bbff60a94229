//! Auth0 list paging: `page` (0-based), `per_page` (default 50, max 100), `include_totals`.

use crate::error::CoreError;
use crate::ports::Page;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub include_totals: bool,
    /// Checkpoint pagination (`from`/`take`): an explicit offset, overriding `page`.
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn to_page(self) -> Result<Page, CoreError> {
        let per_page = self.per_page.unwrap_or(50);
        let page = self.page.unwrap_or(0);
        if !(0..=100).contains(&per_page) {
            return Err(CoreError::bad_query(
                "Query validation error: 'per_page' must be between 0 and 100.",
            ));
        }
        if page < 0 {
            return Err(CoreError::bad_query(
                "Query validation error: 'page' must be >= 0.",
            ));
        }
        if self.offset.is_some_and(|o| o < 0) {
            return Err(CoreError::bad_query(
                "Query validation error: 'from' must be >= 0.",
            ));
        }
        Ok(Page {
            offset: self.offset.unwrap_or(page * per_page),
            limit: per_page,
        })
    }
}

/// A page of results with the totals Auth0 returns when `include_totals=true`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub start: i64,
    pub limit: i64,
    pub total: i64,
    pub include_totals: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_over_100_is_rejected() {
        let q = PageQuery {
            per_page: Some(101),
            ..Default::default()
        };
        assert!(q.to_page().is_err());
    }

    #[test]
    fn checkpoint_offset_overrides_page() {
        let q = PageQuery {
            page: Some(3),
            per_page: Some(10),
            offset: Some(7),
            ..Default::default()
        };
        assert_eq!(
            q.to_page().unwrap(),
            Page {
                offset: 7,
                limit: 10
            }
        );
    }

    #[test]
    fn page_times_per_page_is_offset() {
        let q = PageQuery {
            page: Some(3),
            per_page: Some(10),
            ..Default::default()
        };
        assert_eq!(
            q.to_page().unwrap(),
            Page {
                offset: 30,
                limit: 10
            }
        );
    }
}
