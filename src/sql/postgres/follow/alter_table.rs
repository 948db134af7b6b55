//! ALTER TABLE sub-commands: each one's lock mode (PostgreSQL's "ALTER TABLE" documentation
//! names the lock of every form), the long work it does on an existing table, and what it
//! changes in the schema.

use super::{Effect, FileWalk};
use crate::sql::postgres::ast::*;
use crate::sql::postgres::operations::*;
use crate::sql::postgres::schema::type_change;
use pg_query::protobuf::{self, AlterTableType, ConstrType};
use pg_query::{LockMode, NodeEnum};

impl FileWalk<'_> {
    /// One ALTER TABLE sub-command: its operation, its lock, and long work.
    pub(super) fn alter_table_cmd(
        &mut self,
        table: &str,
        cmd: &protobuf::AlterTableCmd,
        effect: &mut Effect,
    ) -> (LockMode, Option<&'static str>) {
        let existing = self.existing(table);
        let column = cmd.name.to_lowercase();
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        match (cmd.subtype(), def) {
            (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column_def))) => {
                let mut work = None;
                if existing {
                    let add = self.add_column(table, column_def);
                    work = add.long_work();
                    effect.operations.push(Operation::AddColumn(add));
                    self.tx
                        .added_columns
                        .insert((table.to_string(), column_def.colname.to_lowercase()));
                }
                if let Some(ty) = column_def.type_name.as_ref().map(column_type) {
                    self.schema
                        .set_column_type(table, column_def.colname.to_lowercase(), ty);
                }
                (LockMode::AccessExclusiveLock, work)
            }
            (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(column_def))) => {
                let Some(after) = column_def.type_name.as_ref().map(column_type) else {
                    return (LockMode::AccessExclusiveLock, None);
                };
                let before = self.schema.column_type(table, &column).cloned();
                let mut work = None;
                if existing {
                    let using = column_def
                        .raw_default
                        .as_ref()
                        .and_then(|d| d.node.as_ref());
                    let using_changes_data = using.is_some_and(|u| !is_plain_cast_of(u, &column));
                    let rewrite = if using_changes_data {
                        TypeChange::Rewrite("the USING expression computes new values".to_string())
                    } else {
                        type_change(before.as_ref(), &after)
                    };
                    if matches!(rewrite, TypeChange::Rewrite(_)) {
                        work = Some("a table rewrite");
                    }
                    effect.operations.push(Operation::AlterColumnType {
                        table: table.to_string(),
                        column: column.clone(),
                        before,
                        after: after.clone(),
                        rewrite,
                    });
                }
                self.schema.set_column_type(table, column, after);
                (LockMode::AccessExclusiveLock, work)
            }
            (AlterTableType::AtSetNotNull, _) => {
                if existing {
                    // PostgreSQL 12+ skips the scan when a valid CHECK (column IS NOT NULL)
                    // already proves it.
                    let proven = self.options.postgres_version >= 12
                        && self
                            .validated_not_null
                            .contains(&(table.to_string(), column.clone()));
                    if !proven {
                        effect.operations.push(Operation::SetNotNull {
                            table: table.to_string(),
                            column,
                        });
                        return (LockMode::AccessExclusiveLock, Some("a table scan"));
                    }
                }
                (LockMode::AccessExclusiveLock, None)
            }
            (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(constraint))) => {
                self.add_constraint(table, constraint, existing, effect)
            }
            (AlterTableType::AtValidateConstraint, _) => {
                let key = (table.to_string(), cmd.name.clone());
                if self.tx.not_valid.contains(&key) && existing {
                    effect
                        .operations
                        .push(Operation::ValidateInSameTransaction {
                            table: table.to_string(),
                            name: cmd.name.clone(),
                        });
                }
                if let Some(column) = self.pending_not_null_checks.get(&key).cloned() {
                    self.tx.validated_not_null.push((table.to_string(), column));
                }
                (LockMode::ShareUpdateExclusiveLock, None)
            }
            (AlterTableType::AtDropColumn, _) => {
                if existing {
                    effect.operations.push(Operation::DropColumn {
                        table: table.to_string(),
                        column: column.clone(),
                    });
                }
                self.schema.drop_column(table, &column);
                (LockMode::AccessExclusiveLock, None)
            }
            (
                AlterTableType::AtSetLogged
                | AlterTableType::AtSetUnLogged
                | AlterTableType::AtSetTableSpace,
                _,
            ) => {
                if existing {
                    let what = match cmd.subtype() {
                        AlterTableType::AtSetLogged => "SET LOGGED".to_string(),
                        AlterTableType::AtSetUnLogged => "SET UNLOGGED".to_string(),
                        _ => format!("SET TABLESPACE {}", cmd.name),
                    };
                    effect.operations.push(Operation::Rewrite {
                        table: table.to_string(),
                        kind: RewriteKind::AlterTable(what),
                    });
                    return (LockMode::AccessExclusiveLock, Some("a table rewrite"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            (
                AlterTableType::AtSetStatistics
                | AlterTableType::AtClusterOn
                | AlterTableType::AtDropCluster
                | AlterTableType::AtSetRelOptions
                | AlterTableType::AtResetRelOptions
                | AlterTableType::AtSetOptions
                | AlterTableType::AtResetOptions,
                _,
            ) => (LockMode::ShareUpdateExclusiveLock, None),
            (
                AlterTableType::AtEnableTrig
                | AlterTableType::AtDisableTrig
                | AlterTableType::AtEnableAlwaysTrig
                | AlterTableType::AtEnableReplicaTrig
                | AlterTableType::AtEnableTrigAll
                | AlterTableType::AtDisableTrigAll
                | AlterTableType::AtEnableTrigUser
                | AlterTableType::AtDisableTrigUser,
                _,
            ) => (LockMode::ShareRowExclusiveLock, None),
            (AlterTableType::AtAttachPartition | AlterTableType::AtDetachPartition, _) => {
                (LockMode::ShareUpdateExclusiveLock, None)
            }
            _ => (LockMode::AccessExclusiveLock, None),
        }
    }

    /// What an added column makes PostgreSQL do to the existing rows.
    fn add_column(&self, table: &str, column_def: &protobuf::ColumnDef) -> AddColumn {
        let ty = column_def.type_name.as_ref().map(column_type);
        let constraints: Vec<&protobuf::Constraint> = column_def
            .constraints
            .iter()
            .filter_map(|c| match c.node.as_ref() {
                Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect();
        let has = |kind: ConstrType| constraints.iter().any(|c| c.contype() == kind);
        let default = constraints
            .iter()
            .find(|c| c.contype() == ConstrType::ConstrDefault);
        let generated_stored = constraints
            .iter()
            .any(|c| c.contype() == ConstrType::ConstrGenerated && c.generated_kind != "v");
        let serial = ty.as_ref().is_some_and(|t| {
            matches!(
                t.name.as_str(),
                "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
            )
        });
        let type_text = ty.as_ref().map(|t| t.to_string()).unwrap_or_default();
        // Since PostgreSQL 11 a non-volatile default is stored in the catalog, not in every row.
        let default_rewrite = default.and_then(|default| {
            let expression = default.raw_expr.as_ref().and_then(|e| e.node.as_ref());
            let volatile = expression.and_then(volatile_function);
            let is_null = expression.is_some_and(is_null_constant);
            let old_postgres = self.options.postgres_version < 11 && !is_null;
            (volatile.is_some() || old_postgres).then_some(AddColumnRewrite::Default {
                volatile,
                postgres_version: self.options.postgres_version,
            })
        });
        let rewrite = if serial || has(ConstrType::ConstrIdentity) {
            Some(AddColumnRewrite::Sequence {
                what: if serial {
                    type_text.clone()
                } else {
                    "an identity column".to_string()
                },
            })
        } else if generated_stored {
            Some(AddColumnRewrite::GeneratedStored)
        } else {
            default_rewrite
        };
        let inline = constraints
            .iter()
            .find_map(|constraint| match constraint.contype() {
                ConstrType::ConstrForeign if !constraint.skip_validation => {
                    Some(InlineConstraint::ForeignKey {
                        referenced: table_of(&constraint.pktable),
                    })
                }
                ConstrType::ConstrUnique | ConstrType::ConstrPrimary => {
                    Some(InlineConstraint::Unique)
                }
                // An inline CHECK: the new column's value in every existing row (NULL or the
                // default) is verified against it while the ALTER holds ACCESS EXCLUSIVE.
                ConstrType::ConstrCheck if !constraint.skip_validation => {
                    Some(InlineConstraint::Check {
                        name: if constraint.conname.is_empty() {
                            // PostgreSQL's default name for a column check.
                            format!("{table}_{}_check", column_def.colname)
                        } else {
                            constraint.conname.clone()
                        },
                    })
                }
                _ => None,
            });
        AddColumn {
            table: table.to_string(),
            column: column_def.colname.clone(),
            type_text,
            rewrite,
            not_null_without_default: default.is_none() && has(ConstrType::ConstrNotnull),
            inline,
        }
    }

    fn add_constraint(
        &mut self,
        table: &str,
        constraint: &protobuf::Constraint,
        existing: bool,
        effect: &mut Effect,
    ) -> (LockMode, Option<&'static str>) {
        let name = if constraint.conname.is_empty() {
            format!("{table}_constraint")
        } else {
            constraint.conname.clone()
        };
        let key = (table.to_string(), constraint.conname.clone());
        match constraint.contype() {
            ConstrType::ConstrCheck => {
                let not_null_column = constraint
                    .raw_expr
                    .as_ref()
                    .and_then(|e| e.node.as_ref())
                    .and_then(is_not_null_test);
                if constraint.skip_validation {
                    self.tx.not_valid.insert(key.clone());
                    if let Some(column) = not_null_column {
                        self.pending_not_null_checks.insert(key, column);
                    }
                    return (LockMode::AccessExclusiveLock, None);
                }
                if let Some(column) = not_null_column {
                    self.tx.validated_not_null.push((table.to_string(), column));
                }
                if existing {
                    effect.operations.push(Operation::AddCheck {
                        table: table.to_string(),
                        name,
                        not_valid: None,
                    });
                    return (LockMode::AccessExclusiveLock, Some("a table scan"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            ConstrType::ConstrForeign => {
                // SHARE ROW EXCLUSIVE on both tables, for the scan and the triggers.
                let referenced = table_of(&constraint.pktable);
                let mut work = None;
                if constraint.skip_validation {
                    self.tx.not_valid.insert(key);
                } else if existing {
                    effect.operations.push(Operation::AddForeignKey {
                        table: table.to_string(),
                        name,
                        referenced: referenced.clone(),
                        not_valid: None,
                    });
                    work = Some("a table scan");
                }
                effect
                    .locks
                    .push((referenced, LockMode::ShareRowExclusiveLock));
                (LockMode::ShareRowExclusiveLock, work)
            }
            ConstrType::ConstrUnique | ConstrType::ConstrPrimary | ConstrType::ConstrExclusion => {
                let using_index = !constraint.indexname.is_empty();
                if existing && !using_index {
                    let kind = match constraint.contype() {
                        ConstrType::ConstrUnique => "UNIQUE",
                        ConstrType::ConstrPrimary => "PRIMARY KEY",
                        _ => "EXCLUDE",
                    };
                    effect.operations.push(Operation::AddUniqueConstraint {
                        table: table.to_string(),
                        name,
                        kind,
                        columns: key_names(&constraint.keys),
                    });
                    return (LockMode::AccessExclusiveLock, Some("an index build"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            ConstrType::ConstrNotnull => {
                if existing && !constraint.skip_validation {
                    effect.operations.push(Operation::AddNotNullConstraint {
                        table: table.to_string(),
                        name,
                        column: key_names(&constraint.keys),
                    });
                    return (LockMode::AccessExclusiveLock, Some("a table scan"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            _ => (LockMode::AccessExclusiveLock, None),
        }
    }
}
