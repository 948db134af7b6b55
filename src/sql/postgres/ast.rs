//! Small readings of libpg_query's parse trees that the schema walk needs: names, constants,
//! function calls.

use super::{ColumnType, strings};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, a_const::Val};

/// Type names are matched case-insensitively, like table and column names here.
pub fn column_type(type_name: &protobuf::TypeName) -> ColumnType {
    let mut ty = ColumnType::of(type_name);
    ty.name = ty.name.to_lowercase();
    ty
}

/// Functions whose default PostgreSQL computes per row (volatile), found anywhere in the expression.
pub fn volatile_function(expression: &NodeEnum) -> Option<String> {
    const VOLATILE: &[&str] = &[
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "gen_random_bytes",
    ];
    let mut found = None;
    visit_func_calls(expression, &mut |name| {
        if found.is_none() && VOLATILE.contains(&name) {
            found = Some(name.to_string());
        }
    });
    found
}

/// Call `f` with the (unqualified, lowercase) name of every function call in the expression.
pub fn visit_func_calls(node: &NodeEnum, f: &mut dyn FnMut(&str)) {
    // The protobuf tree has dozens of expression node kinds; its Debug form lists every nested
    // FuncCall with its name, which is all this needs.
    let text = format!("{node:?}");
    let mut rest = text.as_str();
    while let Some(index) = rest.find("FuncCall { funcname: [") {
        rest = &rest[index + "FuncCall { funcname: [".len()..];
        let end = rest.find(']').unwrap_or(rest.len());
        let names = &rest[..end];
        if let Some(last) = names.rsplit("sval: \"").next() {
            let name = last.split('"').next().unwrap_or("");
            f(&name.to_lowercase());
        }
    }
}

pub fn is_plpgsql(function: &protobuf::CreateFunctionStmt) -> bool {
    function.options.iter().any(|option| {
        matches!(option.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "language"
            && matches!(d.arg.as_ref().and_then(|a| a.node.as_ref()), Some(NodeEnum::String(s)) if s.sval.eq_ignore_ascii_case("plpgsql")))
    })
}

pub fn last_name(names: &[protobuf::Node]) -> String {
    strings(names)
        .next_back()
        .unwrap_or_default()
        .to_lowercase()
}

pub fn is_null_constant(node: &NodeEnum) -> bool {
    match node {
        NodeEnum::AConst(c) => c.isnull,
        NodeEnum::TypeCast(cast) => cast
            .arg
            .as_ref()
            .and_then(|a| a.node.as_ref())
            .is_some_and(is_null_constant),
        _ => false,
    }
}

/// `column IS NOT NULL` → the column.
pub fn is_not_null_test(node: &NodeEnum) -> Option<String> {
    let NodeEnum::NullTest(test) = node else {
        return None;
    };
    if test.nulltesttype() != protobuf::NullTestType::IsNotNull {
        return None;
    }
    column_ref_name(test.arg.as_ref()?.node.as_ref()?)
}

pub fn column_ref_name(node: &NodeEnum) -> Option<String> {
    let NodeEnum::ColumnRef(column) = node else {
        return None;
    };
    strings(&column.fields).next_back().map(str::to_lowercase)
}

/// `USING amount` or `USING amount::bigint`: no new values, just the conversion.
pub fn is_plain_cast_of(node: &NodeEnum, column: &str) -> bool {
    match node {
        NodeEnum::TypeCast(cast) => cast
            .arg
            .as_ref()
            .and_then(|a| a.node.as_ref())
            .is_some_and(|a| is_plain_cast_of(a, column)),
        other => column_ref_name(other).as_deref() == Some(column),
    }
}

pub fn setting_is_zero(args: &[protobuf::Node]) -> bool {
    match args.first().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(Val::Ival(i)) => i.ival == 0,
            Some(Val::Sval(s)) => {
                s.sval.trim() == "0" || s.sval.trim().starts_with("0 ") || s.sval.trim() == "0s"
            }
            _ => false,
        },
        None => true, // SET lock_timeout TO DEFAULT
        _ => false,
    }
}

pub fn def_is_false(def: &protobuf::DefElem) -> bool {
    match def.arg.as_ref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::Boolean(b)) => !b.boolval,
        Some(NodeEnum::String(s)) => matches!(s.sval.as_str(), "false" | "off" | "0"),
        Some(NodeEnum::Integer(i)) => i.ival == 0,
        _ => false,
    }
}

pub fn key_names(keys: &[protobuf::Node]) -> String {
    strings(keys).collect::<Vec<_>>().join(", ")
}

pub fn table_of(relation: &Option<protobuf::RangeVar>) -> String {
    relation.as_ref().map(range_name).unwrap_or_default()
}

/// Tables are matched by name without schema: migrations rarely mix schemas, and a false
/// "new table" would hide a real finding less often than a schema mismatch would invent one.
pub fn range_name(range: &protobuf::RangeVar) -> String {
    range.relname.to_lowercase()
}

pub fn object_name(object: &protobuf::Node) -> String {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) => last_name(&list.items),
        Some(NodeEnum::String(s)) => s.sval.to_lowercase(),
        _ => String::new(),
    }
}

/// The columns of a WHERE clause made only of `column IS NULL` tests (`WHERE currency IS NULL`,
/// `WHERE a IS NULL AND b IS NULL`); `None` when anything else narrows it.
pub fn only_is_null_tests(node: &NodeEnum) -> Option<Vec<String>> {
    match node {
        NodeEnum::NullTest(test) if test.nulltesttype() == protobuf::NullTestType::IsNull => {
            column_ref_name(test.arg.as_ref()?.node.as_ref()?).map(|c| vec![c])
        }
        NodeEnum::BoolExpr(expr) if expr.boolop() == protobuf::BoolExprType::AndExpr => {
            let mut columns = Vec::new();
            for arg in &expr.args {
                columns.extend(only_is_null_tests(arg.node.as_ref()?)?);
            }
            Some(columns)
        }
        _ => None,
    }
}

/// `ALTER TABLE <table> <this one sub-command>`, with the constraint it adds marked NOT VALID,
/// as SQL (PostgreSQL's own deparser): the fix for a combined ALTER quotes only the constraint,
/// never a scanning sibling sub-command, and never the whole (possibly huge) statement.
pub fn not_valid_alone(
    stmt: &protobuf::AlterTableStmt,
    cmd: &protobuf::AlterTableCmd,
) -> Option<String> {
    let mut cmd = cmd.clone();
    if let Some(NodeEnum::Constraint(constraint)) = cmd.def.as_mut().and_then(|d| d.node.as_mut()) {
        constraint.skip_validation = true;
        constraint.initially_valid = false;
    }
    let mut alone = stmt.clone();
    alone.cmds = vec![protobuf::Node {
        node: Some(NodeEnum::AlterTableCmd(Box::new(cmd))),
    }];
    let tree = protobuf::ParseResult {
        // The grammar version libpg_query writes into its own parse trees.
        version: pg_query::parse("", pg_query::ParserOptions::DEFAULT)
            .ok()?
            .protobuf
            .version,
        stmts: vec![protobuf::RawStmt {
            stmt: Some(Box::new(protobuf::Node {
                node: Some(NodeEnum::AlterTableStmt(alone)),
            })),
            stmt_location: 0,
            stmt_len: 0,
        }],
    };
    pg_query::deparse(&tree, Default::default()).ok()
}
