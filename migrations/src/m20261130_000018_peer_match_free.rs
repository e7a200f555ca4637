//! Whether, when a contact that chose a topic was first routed, a volunteer signed off
//! for the topic was on shift and free: the report tells a shortage of such volunteers
//! apart from routing that missed a match it could have made.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000005_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PeerMatchFree {
    PeerMatchFree,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(boolean_null(PeerMatchFree::PeerMatchFree))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .drop_column(PeerMatchFree::PeerMatchFree)
                    .to_owned(),
            )
            .await
    }
}
