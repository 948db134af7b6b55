//! The facts of one ALTER TABLE operation: how MySQL runs it (its [`Op`] and cost, from the
//! online-DDL table and the cost model), the breaking changes it makes, and its effect on the
//! schema model.

use super::Props;
use super::cost::{Cost, OSC_TOOLS, Op, drop_primary_key, modify_cost};
use super::facts::Change;
use super::online_ddl;
use super::schema::{Schema, TableRef};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Ident, ObjectName,
    RenameTableNameKind, TableConstraint,
};

/// The table as it was before the statement, when known (not its columns: cloning them for
/// every ALTER would make long migrations on wide tables quadratic).
pub struct Before {
    pub charset: Option<String>,
    pub fulltext: bool,
}

/// What classifying one operation of an ALTER TABLE reads and changes.
pub struct AlterWalk<'a> {
    pub schema: &'a mut Schema,
    /// The statement's breaking changes, in order.
    pub changes: &'a mut Vec<Change>,
    pub table: &'a TableRef,
    /// The table existed before this file.
    pub existing: bool,
    pub before: Option<&'a Before>,
    /// The same ALTER adds a primary key (so dropping the old one is a rebuild, not a copy).
    pub adds_primary_key: bool,
    /// The session's `foreign_key_checks`.
    pub foreign_key_checks: bool,
}

/// One parsed ALTER TABLE operation: its cost, the breaking changes it makes, and its effect on
/// the schema. `Err`: an operation gonogo does not know in MySQL.
pub fn classify(
    ctx: &mut AlterWalk,
    op: &AlterTableOperation,
    rename_to: &mut Option<ObjectName>,
) -> Result<Vec<Op>, String> {
    let t = ctx.table.name.clone();
    let table_fulltext = ctx.before.is_some_and(|b| b.fulltext);
    let sql = op.to_string();
    let mut ops = Vec::new();
    match op {
        AlterTableOperation::AddColumn {
            column_def,
            column_keyword,
            if_not_exists,
            column_position,
        } => {
            let column = &column_def.name;
            // Inline keys and checks become operations of their own (so a fix can split them
            // off); the column's SQL is written without them.
            let mut plain = column_def.clone();
            plain.options.retain(|o| {
                !matches!(
                    o.option,
                    ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_) | ColumnOption::Check(_)
                )
            });
            let sql = AlterTableOperation::AddColumn {
                column_keyword: *column_keyword,
                if_not_exists: *if_not_exists,
                column_def: plain,
                column_position: column_position.clone(),
            }
            .to_string();
            let props = Props::of(column_def.options.iter().map(|o| &o.option));
            let what = format!("ADD COLUMN {}", column.value);
            let cost = if props.generated == Some(true) {
                Cost::Copy {
                    why: online_ddl::ADD_STORED_GENERATED_COLUMN.to_string(),
                    fix: Some(format!(
                        "add {} as a VIRTUAL generated column (INSTANT) and index it if needed, or use {OSC_TOOLS} for {t}",
                        column.value
                    )),
                }
            } else if props.auto_increment {
                Cost::copy(online_ddl::ADD_AUTO_INCREMENT_COLUMN)
            } else if table_fulltext {
                Cost::rebuild(format!(
                    "{t} has a FULLTEXT index, so ADD COLUMN cannot be INSTANT"
                ))
            } else {
                Cost::from(if props.generated.is_none() {
                    online_ddl::ADD_COLUMN
                } else {
                    online_ddl::ADD_VIRTUAL_COLUMN
                })
            };
            ops.push(Op::new(sql, what, cost));
            for option in &column_def.options {
                match &option.option {
                    ColumnOption::PrimaryKey(_) => {
                        let sql = format!("ADD PRIMARY KEY ({column})");
                        let cost = Cost::from(online_ddl::PRIMARY_KEY);
                        ops.push(Op::new(sql.clone(), sql, cost));
                    }
                    ColumnOption::Unique(_) => {
                        let sql = format!("ADD UNIQUE ({column})");
                        ops.push(Op::new(sql.clone(), sql, Cost::inplace()));
                    }
                    ColumnOption::Check(check) => {
                        let sql = format!("ADD {check}");
                        let cost = if check.enforced == Some(false) {
                            Cost::inplace()
                        } else {
                            Cost::copy(online_ddl::ENFORCED_CHECK)
                        };
                        ops.push(Op::new(sql.clone(), sql, cost));
                    }
                    _ => {}
                }
            }
            if ctx.existing
                && !props.nullable()
                && !props.default
                && !props.auto_increment
                && props.generated.is_none()
            {
                ctx.changes.push(Change::AddColumnNotNull {
                    table: ctx.table.clone(),
                    column: column.value.clone(),
                    column_sql: column.to_string(),
                    ty: column_def.data_type.to_string(),
                });
            }
            let charset = ctx.before.and_then(|b| b.charset.clone());
            ctx.schema.add_column(
                &ctx.table.key,
                &column.value,
                &column_def.data_type,
                &props,
                charset,
            );
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            let names: Vec<&str> = column_names.iter().map(|c| c.value.as_str()).collect();
            for column in column_names {
                if ctx.existing {
                    ctx.changes.push(Change::DropColumn {
                        table: ctx.table.clone(),
                        column: column.value.clone(),
                    });
                }
                ctx.schema.drop_column(&ctx.table.key, &column.value);
            }
            let cost = if table_fulltext {
                Cost::rebuild(format!(
                    "{t} has a FULLTEXT index, so DROP COLUMN cannot be INSTANT"
                ))
            } else {
                Cost::from(online_ddl::DROP_COLUMN)
            };
            ops.push(Op::new(
                sql,
                format!("DROP COLUMN {}", names.join(", ")),
                cost,
            ));
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            rename_column(ctx, old_column_name, new_column_name);
            ops.push(Op::new(
                sql,
                format!("RENAME COLUMN {}", old_column_name.value),
                Cost::from(online_ddl::METADATA_ONLY),
            ));
        }
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            column_position,
        } => {
            let props = Props::of(options.iter());
            let old = ctx.schema.column(&ctx.table.key, &old_name.value).cloned();
            let cost = modify_cost(
                ctx.table,
                ctx.before.and_then(|b| b.charset.as_deref()),
                &old_name.value,
                old.as_ref(),
                data_type,
                &props,
                column_position.as_ref(),
            );
            if old_name.value.to_lowercase() != new_name.value.to_lowercase() {
                rename_column(ctx, old_name, new_name);
            }
            ctx.schema
                .set_column(&ctx.table.key, &new_name.value, data_type, &props);
            ops.push(Op::new(
                sql,
                format!("CHANGE COLUMN {} {}", old_name.value, new_name.value),
                cost,
            ));
        }
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            column_position,
        } => {
            let props = Props::of(options.iter());
            let old = ctx.schema.column(&ctx.table.key, &col_name.value).cloned();
            let cost = modify_cost(
                ctx.table,
                ctx.before.and_then(|b| b.charset.as_deref()),
                &col_name.value,
                old.as_ref(),
                data_type,
                &props,
                column_position.as_ref(),
            );
            ctx.schema
                .set_column(&ctx.table.key, &col_name.value, data_type, &props);
            ops.push(Op::new(
                sql,
                format!("MODIFY COLUMN {}", col_name.value),
                cost,
            ));
        }
        AlterTableOperation::AlterColumn {
            column_name,
            op: column_op,
        } => match column_op {
            AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault => {
                let verb = if matches!(column_op, AlterColumnOperation::DropDefault) {
                    "DROP DEFAULT"
                } else {
                    "SET DEFAULT"
                };
                ops.push(Op::new(
                    sql,
                    format!("ALTER COLUMN {} {verb}", column_name.value),
                    Cost::from(online_ddl::METADATA_ONLY),
                ));
            }
            other => {
                return Err(format!(
                    "MySQL has no `ALTER COLUMN {} {other}`: use MODIFY COLUMN with the full column definition",
                    column_name.value
                ));
            }
        },
        AlterTableOperation::AddConstraint { constraint, .. } => {
            ops.push(add_constraint(ctx, constraint, sql)?);
        }
        AlterTableOperation::DropPrimaryKey { .. } => {
            ops.push(Op::new(
                sql,
                "DROP PRIMARY KEY",
                drop_primary_key(ctx.table, ctx.adds_primary_key),
            ));
        }
        AlterTableOperation::DropIndex { name } if name.value.eq_ignore_ascii_case("PRIMARY") => {
            ops.push(Op::new(
                sql,
                "DROP INDEX PRIMARY",
                drop_primary_key(ctx.table, ctx.adds_primary_key),
            ));
        }
        AlterTableOperation::DropIndex { name } => ops.push(Op::new(
            sql,
            format!("DROP INDEX {}", name.value),
            Cost::from(online_ddl::INDEX_METADATA),
        )),
        AlterTableOperation::DropForeignKey { name, .. } => {
            ctx.schema.drop_foreign_key(&ctx.table.key, &name.value);
            ops.push(Op::new(
                sql,
                format!("DROP FOREIGN KEY {}", name.value),
                Cost::from(online_ddl::INDEX_METADATA),
            ))
        }
        AlterTableOperation::DropConstraint { name, .. } => {
            // MySQL 8.0.19+ drops the constraint of that name, whatever its kind.
            ctx.schema.drop_foreign_key(&ctx.table.key, &name.value);
            ops.push(Op::new(
                sql,
                format!("DROP CONSTRAINT {}", name.value),
                Cost::from(online_ddl::SECONDARY_INDEX),
            ))
        }
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
            *rename_to = Some(new.clone());
            ops.push(Op::new(
                sql,
                format!("RENAME TO {new}"),
                Cost::from(online_ddl::METADATA_ONLY),
            ));
        }
        AlterTableOperation::AutoIncrement { .. } => {
            ops.push(Op::new(sql.clone(), sql, Cost::inplace()))
        }
        other => return Err(format!("gonogo does not know how MySQL runs `{other}`")),
    }
    Ok(ops)
}

fn add_constraint(
    ctx: &mut AlterWalk,
    constraint: &TableConstraint,
    sql: String,
) -> Result<Op, String> {
    let t = ctx.table.name.clone();
    let named = |kind: &str, name: Option<&Ident>| match name {
        Some(name) => format!("{kind} {}", name.value),
        None => kind.to_string(),
    };
    Ok(match constraint {
        TableConstraint::Index(index) => Op::new(
            sql,
            named("ADD INDEX", index.name.as_ref()),
            Cost::from(online_ddl::SECONDARY_INDEX),
        ),
        TableConstraint::Unique(unique) => Op::new(
            sql,
            named(
                "ADD UNIQUE",
                unique.index_name.as_ref().or(unique.name.as_ref()),
            ),
            Cost::from(online_ddl::SECONDARY_INDEX),
        ),
        TableConstraint::PrimaryKey(pk) => {
            if let Some(info) = ctx.schema.known_mut(&ctx.table.key) {
                info.primary_key(&pk.columns);
            }
            Op::new(sql, "ADD PRIMARY KEY", Cost::from(online_ddl::PRIMARY_KEY))
        }
        TableConstraint::FulltextOrSpatial(index) => {
            let kind = if index.fulltext {
                "ADD FULLTEXT INDEX"
            } else {
                "ADD SPATIAL INDEX"
            };
            if index.fulltext {
                ctx.schema.table_mut(&ctx.table.key).fulltext = true;
            }
            let mut op = Op::new(
                sql,
                named(kind, index.opt_index_name.as_ref()),
                Cost::from(online_ddl::FULLTEXT_OR_SPATIAL_INDEX),
            );
            op.fulltext = true;
            op
        }
        TableConstraint::ForeignKey(fk) => {
            ctx.schema.add_foreign_key(ctx.table, fk);
            let what = named(
                "ADD FOREIGN KEY",
                fk.name.as_ref().or(fk.index_name.as_ref()),
            );
            if ctx.foreign_key_checks {
                let cost = Cost::Copy {
                    why: online_ddl::FOREIGN_KEY_WITH_CHECKS.to_string(),
                    fix: Some(format!(
                        "`SET foreign_key_checks = 0;` before it lets MySQL add it INPLACE without copying {t} (existing rows are not checked: verify them with a query first), then `SET foreign_key_checks = 1;`; or use pt-online-schema-change (gh-ost does not support foreign keys)"
                    )),
                };
                Op::new(sql, what, cost)
            } else {
                Op::new(sql, what, Cost::inplace())
            }
        }
        TableConstraint::Check(check) => {
            let what = named("ADD CHECK", check.name.as_ref());
            if check.enforced == Some(false) {
                Op::new(sql, what, Cost::inplace())
            } else {
                let cost = Cost::Copy {
                    why: online_ddl::ENFORCED_CHECK.to_string(),
                    fix: Some(format!(
                        "use {OSC_TOOLS} for {t}, or enforce the rule in the application"
                    )),
                };
                Op::new(sql, what, cost)
            }
        }
        other => return Err(format!("`ADD {other}` is not MySQL syntax")),
    })
}

fn rename_column(ctx: &mut AlterWalk, old: &Ident, new: &Ident) {
    if ctx.existing {
        ctx.changes.push(Change::RenameColumn {
            table: ctx.table.clone(),
            old: old.value.clone(),
            new: new.value.clone(),
        });
    }
    ctx.schema
        .rename_column(&ctx.table.key, &old.value, &new.value);
}
