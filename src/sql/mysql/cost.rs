//! The cost model: how MySQL 8 runs one ALTER TABLE operation on the schema as it is (a column's
//! current type, nullability and character set), and how it runs the statement as a whole (one
//! operation that cannot be INSTANT makes MySQL run every operation of the statement INPLACE).
//! The per-operation entries come from the online-DDL table in `online_ddl.rs`.

use super::Props;
use super::online_ddl::{self, Online};
use super::schema::{Column, ForeignKey, TableRef};
use sqlparser::ast::{
    AlterTableAlgorithm, AlterTableLock, CharacterLength, DataType, EnumMember, ExactNumberInfo,
    MySQLColumnPosition,
};

/// The online schema change tools gonogo suggests for a table without foreign keys; a fix names
/// them with this text, so [`Judged::related`] can say instead what works on a table with them.
pub const OSC_TOOLS: &str = "gh-ost or pt-online-schema-change";

/// The character set gonogo assumes when the migrations do not name one: MySQL 8's default.
pub const DEFAULT_CHARSET: &str = "utf8mb4";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Instant,
    Inplace,
    Rebuild,
    Copy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cost {
    /// A metadata change with `ALGORITHM=INSTANT`. When the statement as a whole runs INPLACE,
    /// it costs a rebuild if `rebuild_if_inplace`, else an INPLACE metadata change.
    Instant { rebuild_if_inplace: bool },
    /// INPLACE without a rebuild; concurrent reads and writes continue. `note`: why gonogo is
    /// not sure (the column's current type was not found).
    Inplace { note: Option<String> },
    /// INPLACE, and only the table's metadata changes (dropping or renaming an index).
    Metadata,
    /// INPLACE with a full table rebuild.
    Rebuild { why: String },
    /// Only ALGORITHM=COPY: writes are blocked for the whole copy.
    Copy { why: String, fix: Option<String> },
}

impl Cost {
    pub fn level(&self) -> Level {
        match self {
            Cost::Instant { .. } => Level::Instant,
            Cost::Inplace { .. } | Cost::Metadata => Level::Inplace,
            Cost::Rebuild { .. } => Level::Rebuild,
            Cost::Copy { .. } => Level::Copy,
        }
    }

    pub fn inplace() -> Cost {
        Cost::Inplace { note: None }
    }

    pub fn copy(why: impl Into<String>) -> Cost {
        Cost::Copy {
            why: why.into(),
            fix: None,
        }
    }

    pub fn rebuild(why: impl Into<String>) -> Cost {
        Cost::Rebuild { why: why.into() }
    }
}

/// One operation of an ALTER TABLE (or the one operation of CREATE INDEX / DROP INDEX).
#[derive(Debug, Clone)]
pub struct Op {
    /// The clause as SQL, for fixes: `ADD INDEX orders_status_idx (status)`.
    pub sql: String,
    /// Short, for messages: `ADD INDEX orders_status_idx`.
    pub what: String,
    pub cost: Cost,
    /// A FULLTEXT or SPATIAL index build (LOCK=SHARED).
    pub fulltext: bool,
}

impl Op {
    pub fn new(sql: impl Into<String>, what: impl Into<String>, cost: Cost) -> Op {
        Op {
            sql: sql.into(),
            what: what.into(),
            cost,
            fulltext: false,
        }
    }
}

/// How a statement's fix is written with `ALGORITHM=…, LOCK=…` added.
#[derive(Debug)]
pub enum Shape {
    /// `ALTER TABLE t op, op, ALGORITHM=INPLACE, LOCK=NONE;`
    Alter,
    /// `CREATE INDEX … ALGORITHM=INPLACE LOCK=NONE;` (options without commas), from this SQL.
    Index(String),
}

/// Dropping the primary key: a rebuild when the same ALTER adds another, else a copy.
pub fn drop_primary_key(table: &TableRef, adds_primary_key: bool) -> Cost {
    if adds_primary_key {
        return Cost::from(online_ddl::PRIMARY_KEY);
    }
    Cost::Copy {
        why: online_ddl::DROP_PRIMARY_KEY_ALONE.to_string(),
        fix: Some(format!(
            "drop and add the primary key in one statement (`ALTER TABLE {} DROP PRIMARY KEY, ADD PRIMARY KEY (…), ALGORITHM=INPLACE, LOCK=NONE;` rebuilds {t} but lets writes continue), or use {OSC_TOOLS} for {t}",
            table.sql,
            t = table.name
        )),
    }
}

/// MODIFY / CHANGE of a column from `old` (when known) to `new`.
pub fn modify_cost(
    table: &TableRef,
    table_charset: Option<&str>,
    column: &str,
    old: Option<&Column>,
    new: &DataType,
    props: &Props,
    position: Option<&MySQLColumnPosition>,
) -> Cost {
    let t = &table.name;
    // The new column keeps the character set written for it: without it, a latin1 column's
    // replacement would take the table's default (utf8mb4), another size and collation.
    let written_charset = props
        .charset
        .as_ref()
        .map(|cs| format!(" CHARACTER SET {cs}"))
        .unwrap_or_default();
    let expand = format!(
        "use {OSC_TOOLS} for {t}, or expand and contract: `ALTER TABLE {} ADD COLUMN {column}_new {new}{written_charset} NULL, ALGORITHM=INSTANT;`, backfill it in batches, switch reads to {column}_new, and drop {column} in a later deploy",
        table.sql
    );
    let Some(old) = old else {
        if varchar_length(new).is_some() || enum_members(new).is_some() {
            return Cost::Inplace {
                note: Some(format!(
                    "gonogo did not find {t}.{column}'s current type in the earlier migrations: widening a VARCHAR within its length-prefix size or appending ENUM/SET values runs INPLACE or INSTANT, but any other type change copies {t} (ALGORITHM=COPY) and a NULL/NOT NULL change rebuilds it"
                )),
            };
        }
        return Cost::Copy {
            why: format!(
                "gonogo did not find {t}.{column}'s current type in the earlier migrations; unless it is already {new}, this is a type change, which only ALGORITHM=COPY can do"
            ),
            fix: Some(expand),
        };
    };
    let new_charset = props
        .charset
        .clone()
        .or_else(|| table_charset.map(str::to_string));
    let charsets = |old_cs: &Option<String>, new_cs: &Option<String>| -> Option<(String, String)> {
        let o = old_cs
            .clone()
            .unwrap_or_else(|| DEFAULT_CHARSET.to_string());
        let n = new_cs
            .clone()
            .unwrap_or_else(|| DEFAULT_CHARSET.to_string());
        (o != n).then_some((o, n))
    };
    let charset_change = if is_string_type(&old.ty) && is_string_type(new) {
        charsets(&old.charset, &new_charset)
    } else {
        None
    };
    let copy = |why: String| Cost::Copy {
        why,
        fix: Some(expand.clone()),
    };
    let mut cost = if let Some((from, to)) = charset_change {
        copy(format!("it converts {column} from {from} to {to}"))
    } else if type_key(&old.ty) == type_key(new) {
        Cost::inplace()
    } else if let (Some(n), Some(m)) = (varchar_length(&old.ty), varchar_length(new)) {
        let (bytes, charset) = bytes_per_char(new_charset.as_deref());
        if m < n {
            copy(format!(
                "it shrinks {column} from VARCHAR({n}) to VARCHAR({m})"
            ))
        } else if (n * bytes <= 255) == (m * bytes <= 255) {
            Cost::inplace()
        } else {
            copy(format!(
                "VARCHAR({n}) to VARCHAR({m}) in {charset} crosses 255 bytes, so the length prefix of every value grows from 1 to 2 bytes"
            ))
        }
    } else if let (Some((old_set, old_members)), Some((new_set, new_members))) =
        (enum_members(&old.ty), enum_members(new))
    {
        let kind = if new_set { "SET" } else { "ENUM" };
        let appended = old_set == new_set && prefix_of(&old_members, &new_members);
        let (old_bytes, new_bytes) = (
            member_bytes(old_set, old_members.len()),
            member_bytes(new_set, new_members.len()),
        );
        if appended && old_bytes == new_bytes {
            Cost::Instant {
                rebuild_if_inplace: false,
            }
        } else if appended {
            // The MySQL 8.0 manual ("Online DDL Operations", modifying ENUM or SET): appending
            // members is INSTANT "as long as the storage size of the data type does not
            // change"; an ENUM takes 1 byte for up to 255 members and 2 beyond, a SET 1, 2, 3,
            // 4 or 8 bytes for up to 8, 16, 24, 32 or 64 members.
            copy(format!(
                "appending to {column}'s {kind} takes it from {} to {} members, so every stored value grows from {old_bytes} to {new_bytes} byte{}",
                old_members.len(),
                new_members.len(),
                if new_bytes == 1 { "" } else { "s" }
            ))
        } else {
            copy(format!(
                "it changes {column}'s {kind} values other than by appending at the end"
            ))
        }
    } else {
        copy(format!("{} to {new} is a type change", old.ty))
    };
    if cost.level() < Level::Rebuild {
        let nullable = props.nullable();
        if old.nullable != nullable {
            let to = if nullable { "NULL" } else { "NOT NULL" };
            cost = Cost::rebuild(format!("it makes {column} {to}"));
        } else if position.is_some() {
            cost = Cost::rebuild(format!(
                "moving {column} with FIRST/AFTER reorders the columns"
            ));
        }
    }
    cost
}

/// Whether `new` keeps every member of `old` in place (it may append more).
fn prefix_of(old: &[String], new: &[String]) -> bool {
    new.len() >= old.len() && new[..old.len()] == *old
}

/// Bytes a value of an ENUM or SET with `members` members takes (MySQL 8.0 manual, "Data Type
/// Storage Requirements").
fn member_bytes(set: bool, members: usize) -> usize {
    if set {
        match members.div_ceil(8) {
            0 | 1 => 1,
            2 => 2,
            3 => 3,
            4 => 4,
            _ => 8,
        }
    } else if members <= 255 {
        1
    } else {
        2
    }
}

pub fn varchar_length(ty: &DataType) -> Option<u64> {
    match ty {
        DataType::Varchar(length)
        | DataType::CharVarying(length)
        | DataType::CharacterVarying(length)
        | DataType::Nvarchar(length) => match length {
            Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
            _ => None,
        },
        _ => None,
    }
}

/// `(is_set, members)` of an ENUM or SET.
pub fn enum_members(ty: &DataType) -> Option<(bool, Vec<String>)> {
    match ty {
        DataType::Enum(members, _) => Some((
            false,
            members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
                })
                .collect(),
        )),
        DataType::Set(members) => Some((true, members.clone())),
        _ => None,
    }
}

fn is_string_type(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Char(_)
            | DataType::Character(_)
            | DataType::Varchar(_)
            | DataType::CharVarying(_)
            | DataType::CharacterVarying(_)
            | DataType::Nvarchar(_)
            | DataType::Text
            | DataType::TinyText
            | DataType::MediumText
            | DataType::LongText
            | DataType::Enum(..)
            | DataType::Set(_)
    )
}

/// A type with MySQL's synonyms and display widths folded, for comparing old and new.
fn type_key(ty: &DataType) -> String {
    let decimal = |name: &str, info: &ExactNumberInfo| match info {
        ExactNumberInfo::None => format!("{name}(10,0)"),
        ExactNumberInfo::Precision(p) => format!("{name}({p},0)"),
        ExactNumberInfo::PrecisionAndScale(p, s) => format!("{name}({p},{s})"),
    };
    let chars = |name: &str, length: &Option<CharacterLength>, default: u64| match length {
        Some(CharacterLength::IntegerLength { length, .. }) => format!("{name}({length})"),
        Some(CharacterLength::Max) => format!("{name}(MAX)"),
        None => format!("{name}({default})"),
    };
    match ty {
        DataType::TinyInt(_) | DataType::Bool | DataType::Boolean => "TINYINT".into(),
        DataType::TinyIntUnsigned(_) => "TINYINT UNSIGNED".into(),
        DataType::SmallInt(_) | DataType::Int2(_) => "SMALLINT".into(),
        DataType::SmallIntUnsigned(_) | DataType::Int2Unsigned(_) => "SMALLINT UNSIGNED".into(),
        DataType::MediumInt(_) => "MEDIUMINT".into(),
        DataType::MediumIntUnsigned(_) => "MEDIUMINT UNSIGNED".into(),
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => "INT".into(),
        DataType::IntUnsigned(_) | DataType::IntegerUnsigned(_) | DataType::Int4Unsigned(_) => {
            "INT UNSIGNED".into()
        }
        DataType::BigInt(_) | DataType::Int8(_) => "BIGINT".into(),
        DataType::BigIntUnsigned(_) | DataType::Int8Unsigned(_) => "BIGINT UNSIGNED".into(),
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            decimal("DECIMAL", info)
        }
        DataType::DecimalUnsigned(info) | DataType::DecUnsigned(info) => {
            decimal("DECIMAL UNSIGNED", info)
        }
        DataType::Real
        | DataType::DoublePrecision
        | DataType::Double(ExactNumberInfo::None)
        | DataType::Float8 => "DOUBLE".into(),
        DataType::Char(length) | DataType::Character(length) => chars("CHAR", length, 1),
        DataType::Varchar(length)
        | DataType::CharVarying(length)
        | DataType::CharacterVarying(length) => chars("VARCHAR", length, 0),
        other => other.to_string().to_ascii_uppercase().replace(", ", ","),
    }
}

/// Maximum bytes per character of a character set, and its name for messages.
fn bytes_per_char(charset: Option<&str>) -> (u64, String) {
    let Some(charset) = charset else {
        return (
            4,
            format!(
                "{DEFAULT_CHARSET} (MySQL 8's default; gonogo found no character set for this column)"
            ),
        );
    };
    let bytes = match charset {
        "latin1" | "latin2" | "latin5" | "latin7" | "ascii" | "binary" | "cp1250" | "cp1251"
        | "cp1256" | "cp1257" | "cp850" | "cp852" | "cp866" | "dec8" | "greek" | "hebrew"
        | "hp8" | "keybcs2" | "koi8r" | "koi8u" | "macce" | "macroman" | "swe7" | "tis620"
        | "armscii8" | "geostd8" => 1,
        "ucs2" | "big5" | "gbk" | "gb2312" | "sjis" | "cp932" | "euckr" => 2,
        "utf8mb3" | "ujis" | "eucjpms" => 3,
        _ => 4,
    };
    (bytes, charset.to_string())
}

impl From<Online> for Cost {
    fn from(online: Online) -> Cost {
        match online {
            Online::Instant { rebuild_if_inplace } => Cost::Instant { rebuild_if_inplace },
            Online::Inplace => Cost::inplace(),
            Online::InplaceMetadata => Cost::Metadata,
            Online::Rebuild(why) => Cost::rebuild(why),
            Online::Copy(why) => Cost::copy(why),
        }
    }
}

/// How MySQL runs one ALTER TABLE (or CREATE / DROP INDEX, a one-operation ALTER in another
/// syntax) on an existing table, as a whole.
#[derive(Debug)]
pub struct Judged {
    pub table: TableRef,
    /// At least one.
    pub ops: Vec<Op>,
    pub algorithm: Option<AlterTableAlgorithm>,
    pub lock: Option<AlterTableLock>,
    /// Every clause was understood (otherwise the statement is also reported as unparsed, and
    /// gonogo gives no advice on its options).
    pub understood: bool,
    /// The table has no FULLTEXT index yet: building the first one also rebuilds it.
    pub first_fulltext: bool,
    pub shape: Shape,
    /// Each operation's cost in this statement: an INSTANT operation runs INPLACE (and may
    /// rebuild the table) when the statement as a whole cannot be INSTANT. Set by [`Judged::settled`].
    pub effective: Vec<Cost>,
    /// The most expensive effective cost.
    pub level: Level,
    /// The foreign keys around the table before the statement.
    pub relations: Relations,
}

/// The foreign keys around an altered table, as they were before the statement.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    /// A foreign key of the table with an ON … CASCADE / ON … SET NULL action. MySQL 8.0/8.4
    /// manual, "Online DDL Limitations": "The ALTER TABLE clause LOCK=NONE is not permitted if
    /// there are ON...CASCADE or ON...SET NULL constraints on the table". The constraint belongs
    /// to the child table; its parent is not limited.
    pub cascading: Option<ForeignKey>,
    /// The table has foreign keys of its own.
    pub child: bool,
    /// Tables with foreign keys that reference this one, sorted.
    pub children: Vec<String>,
}

impl Relations {
    /// The table takes part in a foreign key, on either side.
    pub fn any(&self) -> bool {
        self.child || !self.children.is_empty()
    }

    /// The online schema change tools that work on the table `t`: gh-ost supports no foreign
    /// key on either side (its "Requirements and limitations": "Foreign keys not supported");
    /// pt-online-schema-change recreates a child's foreign keys on its copy, and needs
    /// `--alter-foreign-keys-method` to repoint the foreign keys of a parent's children at the
    /// new table.
    pub fn tools(&self, t: &str) -> String {
        if !self.children.is_empty() {
            format!(
                "pt-online-schema-change --alter-foreign-keys-method=auto (it repoints the foreign keys of {} at the new {t}; gh-ost does not support foreign keys)",
                self.children.join(", ")
            )
        } else if self.child {
            format!(
                "pt-online-schema-change (it recreates the foreign keys of {t} on its copy; gh-ost does not support foreign keys)"
            )
        } else {
            OSC_TOOLS.to_string()
        }
    }
}

/// Why MySQL refuses a statement as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The ALGORITHM written cannot do the change.
    Algorithm(AlterTableAlgorithm),
    /// LOCK=NONE written, but the change blocks writes.
    LockNone,
}

impl Judged {
    /// The statement on a table with these foreign keys: fixes that suggest an online schema
    /// change tool name the ones that work on it.
    pub fn related(mut self, relations: Relations) -> Judged {
        if relations.any() {
            let tools = relations.tools(&self.table.name);
            let t = &self.table.name;
            let costs = self.ops.iter_mut().map(|op| &mut op.cost);
            for cost in costs.chain(self.effective.iter_mut()) {
                if let Cost::Copy { fix: Some(fix), .. } = cost {
                    let mut fixed = fix.replace(OSC_TOOLS, &tools);
                    if relations.cascading.is_some() {
                        // The primary key fix asks for LOCK=NONE, which MySQL refuses here.
                        fixed = fixed.replace(
                            &format!("LOCK=NONE;` rebuilds {t} but lets writes continue"),
                            &format!("LOCK=SHARED;` rebuilds {t} and blocks writes meanwhile, as its cascading foreign key rules out LOCK=NONE"),
                        );
                    }
                    *fix = fixed;
                }
            }
        }
        self.relations = relations;
        self
    }

    /// MySQL refuses LOCK=NONE for this statement: it runs INPLACE (not INSTANT, not a COPY,
    /// which refuses LOCK=NONE anyway) on a table with a cascading foreign key; the foreign key.
    pub fn lock_none_refused(&self) -> Option<&ForeignKey> {
        // An ALGORITHM=INSTANT the change does not support is refused before any lock is
        // considered (missing_algorithm_lock reports it).
        let inplace = !matches!(
            self.algorithm,
            Some(AlterTableAlgorithm::Copy | AlterTableAlgorithm::Instant)
        ) && (matches!(self.level, Level::Inplace | Level::Rebuild)
            || self.algorithm == Some(AlterTableAlgorithm::Inplace));
        self.relations.cascading.as_ref().filter(|_| inplace)
    }

    /// Every operation only changes metadata INPLACE (dropping or renaming an index, dropping a
    /// foreign key): no rows are read or written, so a lock lasts a moment.
    pub fn metadata_only(&self) -> bool {
        self.effective.iter().all(|c| matches!(c, Cost::Metadata))
    }

    /// The ALGORITHM and LOCK that make MySQL refuse, rather than silently copy, a change it can
    /// do INPLACE: `LOCK=NONE`, except on a table with a cascading foreign key, where MySQL
    /// refuses LOCK=NONE and LOCK=SHARED is the least it can take.
    pub fn online_options(&self) -> &'static str {
        if self.relations.cascading.is_some() {
            "ALGORITHM=INPLACE, LOCK=SHARED"
        } else {
            "ALGORITHM=INPLACE, LOCK=NONE"
        }
    }

    /// Work out the effective costs and level of the statement as written.
    pub fn settled(mut self) -> Judged {
        let instant = self.all_instant() && self.algorithm != Some(AlterTableAlgorithm::Inplace);
        let not_instant = self
            .ops
            .iter()
            .filter(|o| o.cost.level() != Level::Instant)
            .map(|o| o.what.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        self.effective = self
            .ops
            .iter()
            .map(|op| match &op.cost {
                Cost::Instant { rebuild_if_inplace } if !instant => {
                    if !rebuild_if_inplace {
                        Cost::inplace()
                    } else if self.algorithm == Some(AlterTableAlgorithm::Inplace) {
                        Cost::rebuild("INSTANT alone, but ALGORITHM=INPLACE makes MySQL rebuild the table")
                    } else {
                        Cost::rebuild(format!(
                            "INSTANT alone, but in one ALTER with {not_instant} MySQL runs the whole statement INPLACE, which rebuilds the table"
                        ))
                    }
                }
                other => other.clone(),
            })
            .collect();
        self.level = self
            .effective
            .iter()
            .map(Cost::level)
            .max()
            .unwrap_or(Level::Instant);
        self
    }

    /// `ALGORITHM=COPY` written: the statement copies the table whatever its operations.
    pub fn explicit_copy(&self) -> bool {
        self.algorithm == Some(AlterTableAlgorithm::Copy)
    }

    /// Every operation is INSTANT on its own.
    pub fn all_instant(&self) -> bool {
        self.ops.iter().all(|o| o.cost.level() == Level::Instant)
    }

    /// The operations, short, for messages: `ADD COLUMN a, DROP INDEX i`.
    pub fn whats(&self) -> String {
        self.ops
            .iter()
            .map(|o| o.what.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether MySQL refuses the ALGORITHM or LOCK written for a change that `needs` this level
    /// (`fulltext`: a FULLTEXT/SPATIAL build, which takes LOCK=SHARED).
    pub fn refusal(&self, needs: Level, fulltext: bool) -> Option<Refusal> {
        let by_algorithm = match self.algorithm {
            Some(AlterTableAlgorithm::Instant) => needs > Level::Instant || fulltext,
            Some(AlterTableAlgorithm::Inplace) => needs == Level::Copy,
            _ => false,
        };
        let by_lock = self.lock == Some(AlterTableLock::None) && (needs == Level::Copy || fulltext);
        match (by_algorithm, self.algorithm) {
            (true, Some(algorithm)) => Some(Refusal::Algorithm(algorithm)),
            _ if by_lock => Some(Refusal::LockNone),
            _ => None,
        }
    }

    /// `LOCK=SHARED` or `LOCK=EXCLUSIVE` written on a statement that is not a copy anyway.
    /// `LOCK=SHARED` on a table with a cascading foreign key is the least MySQL can take INPLACE,
    /// not a lock chosen over a weaker one.
    pub fn blocking_lock(&self) -> Option<AlterTableLock> {
        match self.lock {
            Some(AlterTableLock::Shared) if self.lock_none_refused().is_some() => None,
            Some(l @ (AlterTableLock::Shared | AlterTableLock::Exclusive))
                if self.level != Level::Copy =>
            {
                Some(l)
            }
            _ => None,
        }
    }

    /// The statement blocks writes (or rebuilds the table) in some way: a copy, a rebuild, a
    /// FULLTEXT/SPATIAL build, a blocking LOCK, an INPLACE build under the shared lock a
    /// cascading foreign key forces.
    pub fn blocks_writes(&self) -> bool {
        self.explicit_copy()
            || self.level >= Level::Rebuild
            || self.ops.iter().any(|o| o.fulltext)
            || self.blocking_lock().is_some()
            || (self.lock_none_refused().is_some() && !self.metadata_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::mysql::normalize_charset;
    use sqlparser::ast::{Ident, ObjectName, Statement};
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::parser::Parser;

    fn ty(sql: &str) -> DataType {
        let statement = format!("CREATE TABLE t (c {sql})");
        match Parser::parse_sql(&MySqlDialect {}, &statement)
            .unwrap()
            .remove(0)
        {
            Statement::CreateTable(create) => create.columns[0].data_type.clone(),
            other => panic!("{other}"),
        }
    }

    fn column(sql: &str, nullable: bool, charset: Option<&str>) -> Column {
        Column {
            ty: ty(sql),
            nullable,
            charset: charset.map(str::to_string),
        }
    }

    fn table() -> TableRef {
        TableRef::new(&ObjectName::from(vec![Ident::new("orders")]))
    }

    /// `MODIFY c <new>` on a column that was `old` (None: unknown), in a table whose default
    /// character set is the old column's.
    fn modify(old: Option<Column>, new: &str, not_null: bool) -> Cost {
        let props = Props {
            not_null,
            ..Props::default()
        };
        let charset = old.as_ref().and_then(|c| c.charset.clone());
        modify_cost(
            &table(),
            charset.as_deref(),
            "c",
            old.as_ref(),
            &ty(new),
            &props,
            None,
        )
    }
    #[test]
    fn varchar_growth_depends_on_bytes_not_characters() {
        // utf8mb4 (the default): 4 bytes a character.
        assert_eq!(
            modify(
                Some(column("VARCHAR(64)", true, None)),
                "VARCHAR(128)",
                false
            )
            .level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("VARCHAR(32)", true, None)),
                "VARCHAR(63)",
                false
            )
            .level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("VARCHAR(32)", true, None)),
                "VARCHAR(64)",
                false
            )
            .level(),
            Level::Copy
        );
        // latin1: 1 byte a character.
        assert_eq!(
            modify(
                Some(column("VARCHAR(100)", true, Some("latin1"))),
                "VARCHAR(255)",
                false
            )
            .level(),
            Level::Inplace
        );
        let crossing = modify(
            Some(column("VARCHAR(255)", true, Some("latin1"))),
            "VARCHAR(256)",
            false,
        );
        assert!(
            matches!(&crossing, Cost::Copy { why, .. } if why.contains("crosses 255 bytes")),
            "{crossing:?}"
        );
        // Shrinking always copies.
        assert_eq!(
            modify(
                Some(column("VARCHAR(200)", true, None)),
                "VARCHAR(100)",
                false
            )
            .level(),
            Level::Copy
        );
    }

    #[test]
    fn type_changes_copy_and_null_changes_rebuild() {
        assert_eq!(
            modify(Some(column("INT", false, None)), "BIGINT", true).level(),
            Level::Copy
        );
        assert_eq!(
            modify(Some(column("INT(11)", false, None)), "INTEGER", true).level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("DECIMAL(10,2)", true, None)),
                "DECIMAL(12,2)",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(Some(column("DECIMAL", true, None)), "DECIMAL(10,0)", false).level(),
            Level::Inplace
        );
        let null_change = modify(
            Some(column("VARCHAR(255)", true, None)),
            "VARCHAR(255)",
            true,
        );
        assert!(
            matches!(&null_change, Cost::Rebuild { why } if why.contains("NOT NULL")),
            "{null_change:?}"
        );
        // MODIFY without NOT NULL makes a NOT NULL column nullable: a rebuild too.
        assert_eq!(
            modify(Some(column("BIGINT", false, None)), "BIGINT", false).level(),
            Level::Rebuild
        );
        // A type change that is also a NULL change is still a copy.
        assert_eq!(
            modify(Some(column("INT", true, None)), "BIGINT", true).level(),
            Level::Copy
        );
    }

    #[test]
    fn enum_and_set_appends_are_instant() {
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('a','b','c')",
                false
            )
            .level(),
            Level::Instant
        );
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('b','a','c')",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('a')",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(
                Some(column("SET('a','b')", true, None)),
                "SET('a','b','c')",
                false
            )
            .level(),
            Level::Instant
        );
        let eight: Vec<String> = (0..8).map(|i| format!("'v{i}'")).collect();
        let nine: Vec<String> = (0..9).map(|i| format!("'v{i}'")).collect();
        // Nine members need a second byte: not a metadata change.
        assert_eq!(
            modify(
                Some(column(&format!("SET({})", eight.join(",")), true, None)),
                &format!("SET({})", nine.join(",")),
                false
            )
            .level(),
            Level::Copy
        );
    }

    #[test]
    fn charset_changes_copy() {
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("VARCHAR(10)", true, Some("latin1"))),
            &ty("VARCHAR(10)"),
            &Props::default(),
            None,
        );
        assert!(
            matches!(&cost, Cost::Copy { why, .. } if why.contains("latin1 to utf8mb4")),
            "{cost:?}"
        );
        let same = Props {
            charset: Some("latin1".into()),
            ..Props::default()
        };
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("VARCHAR(10)", true, Some("latin1"))),
            &ty("VARCHAR(10)"),
            &same,
            None,
        );
        assert_eq!(cost.level(), Level::Inplace);
        assert_eq!(normalize_charset("`UTF8`"), "utf8mb3");
    }

    #[test]
    fn unknown_current_type() {
        let widening = modify(None, "VARCHAR(255)", false);
        assert!(
            matches!(&widening, Cost::Inplace { note: Some(note) } if note.contains("did not find orders.c's current type")),
            "{widening:?}"
        );
        let retype = modify(None, "BIGINT", true);
        assert!(
            matches!(&retype, Cost::Copy { why, .. } if why.contains("did not find orders.c's current type")),
            "{retype:?}"
        );
    }

    #[test]
    fn moving_a_column_rebuilds() {
        let props = Props {
            not_null: true,
            ..Props::default()
        };
        let position = MySQLColumnPosition::First;
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("INT", false, None)),
            &ty("INT"),
            &props,
            Some(&position),
        );
        assert_eq!(cost.level(), Level::Rebuild);
    }
}
