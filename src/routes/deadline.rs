//! A deadline on work that waits for the database: webhooks answer from memory, and
//! probes answer "not ready", rather than wait for ever.

/// Runs `work`, or gives up with an error once `deadline` has passed. Giving up drops the
/// work: an unfinished transaction rolls back, as if the server had stopped there.
pub async fn within<T>(
    deadline: std::time::Duration,
    work: impl std::future::Future<Output = Result<T, sea_orm::DbErr>>,
) -> Result<T, sea_orm::DbErr> {
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or_else(|_| {
            Err(sea_orm::DbErr::Custom(format!(
                "the database did not answer within {} ms",
                deadline.as_millis()
            )))
        })
}

/// As [`within`] for work on this server's database: an error at once, before `work`
/// reads or writes anything, while a server started during an outage has not yet reached
/// and migrated its database.
pub async fn on_database<T>(
    state: &crate::state::AppState,
    deadline: std::time::Duration,
    work: impl std::future::Future<Output = Result<T, sea_orm::DbErr>>,
) -> Result<T, sea_orm::DbErr> {
    if !state.database_reached() {
        return Err(sea_orm::DbErr::Custom(
            "the database has not been reached since this server started".to_owned(),
        ));
    }
    within(deadline, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_past_the_deadline_is_abandoned_with_an_error() {
        let deadline = std::time::Duration::from_millis(20);
        let stuck = within(deadline, async {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert!(stuck.unwrap_err().to_string().contains("within 20 ms"));
        let quick = within(deadline, async { Ok(7) }).await;
        assert_eq!(quick.unwrap(), 7);
    }
}
