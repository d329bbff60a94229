//! MySQL/MariaDB text helpers for the `mysql` module: the npm error-code names of server error
//! numbers, and the check that a query holds a single statement (npm mysql's default).

/// The names npm `mysql` gives the common server error numbers.
#[rustfmt::skip]
const ERROR_NAMES: &[(u16, &str)] = &[
    (1005, "ER_CANT_CREATE_TABLE"), (1007, "ER_DB_CREATE_EXISTS"), (1008, "ER_DB_DROP_EXISTS"),
    (1037, "ER_OUTOFMEMORY"), (1040, "ER_CON_COUNT_ERROR"), (1041, "ER_OUT_OF_RESOURCES"),
    (1042, "ER_BAD_HOST_ERROR"), (1043, "ER_HANDSHAKE_ERROR"), (1044, "ER_DBACCESS_DENIED_ERROR"),
    (1045, "ER_ACCESS_DENIED_ERROR"), (1046, "ER_NO_DB_ERROR"), (1047, "ER_UNKNOWN_COM_ERROR"),
    (1048, "ER_BAD_NULL_ERROR"), (1049, "ER_BAD_DB_ERROR"), (1050, "ER_TABLE_EXISTS_ERROR"),
    (1051, "ER_BAD_TABLE_ERROR"), (1052, "ER_NON_UNIQ_ERROR"), (1053, "ER_SERVER_SHUTDOWN"),
    (1054, "ER_BAD_FIELD_ERROR"), (1055, "ER_WRONG_FIELD_WITH_GROUP"), (1060, "ER_DUP_FIELDNAME"),
    (1061, "ER_DUP_KEYNAME"), (1062, "ER_DUP_ENTRY"), (1064, "ER_PARSE_ERROR"),
    (1065, "ER_EMPTY_QUERY"), (1066, "ER_NONUNIQ_TABLE"), (1067, "ER_INVALID_DEFAULT"),
    (1068, "ER_MULTIPLE_PRI_KEY"), (1071, "ER_TOO_LONG_KEY"), (1091, "ER_CANT_DROP_FIELD_OR_KEY"),
    (1102, "ER_WRONG_DB_NAME"), (1103, "ER_WRONG_TABLE_NAME"), (1105, "ER_UNKNOWN_ERROR"),
    (1109, "ER_UNKNOWN_TABLE"), (1110, "ER_FIELD_SPECIFIED_TWICE"), (1129, "ER_HOST_IS_BLOCKED"),
    (1130, "ER_HOST_NOT_PRIVILEGED"), (1136, "ER_WRONG_VALUE_COUNT_ON_ROW"),
    (1142, "ER_TABLEACCESS_DENIED_ERROR"), (1143, "ER_COLUMNACCESS_DENIED_ERROR"),
    (1146, "ER_NO_SUCH_TABLE"), (1149, "ER_SYNTAX_ERROR"), (1152, "ER_ABORTING_CONNECTION"),
    (1153, "ER_NET_PACKET_TOO_LARGE"), (1175, "ER_UPDATE_WITHOUT_KEY_IN_SAFE_MODE"),
    (1203, "ER_TOO_MANY_USER_CONNECTIONS"), (1205, "ER_LOCK_WAIT_TIMEOUT"),
    (1213, "ER_LOCK_DEADLOCK"), (1216, "ER_NO_REFERENCED_ROW"), (1217, "ER_ROW_IS_REFERENCED"),
    (1226, "ER_USER_LIMIT_REACHED"), (1227, "ER_SPECIFIC_ACCESS_DENIED_ERROR"),
    (1241, "ER_OPERAND_COLUMNS"), (1242, "ER_SUBQUERY_NO_1_ROW"),
    (1251, "ER_NOT_SUPPORTED_AUTH_MODE"), (1264, "ER_WARN_DATA_OUT_OF_RANGE"),
    (1265, "WARN_DATA_TRUNCATED"), (1292, "ER_TRUNCATED_WRONG_VALUE"),
    (1305, "ER_SP_DOES_NOT_EXIST"), (1317, "ER_QUERY_INTERRUPTED"),
    (1364, "ER_NO_DEFAULT_FOR_FIELD"), (1366, "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD"),
    (1406, "ER_DATA_TOO_LONG"), (1451, "ER_ROW_IS_REFERENCED_2"), (1452, "ER_NO_REFERENCED_ROW_2"),
    (1690, "ER_DATA_OUT_OF_RANGE"), (1698, "ER_ACCESS_DENIED_NO_PASSWORD_ERROR"),
    (3024, "ER_QUERY_TIMEOUT"),
];

pub fn error_name(errno: u16) -> Option<&'static str> {
    ERROR_NAMES
        .iter()
        .find_map(|&(n, name)| (n == errno).then_some(name))
}

/// Whether `sql` holds more than one statement: something other than whitespace, comments and
/// `;` after a `;` outside quotes and comments (MySQL's lexical rules with backslash escapes;
/// `/*! ... */` executable comments count as code).
pub fn has_multiple_statements(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut ended = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            b'\'' | b'"' | b'`' => {
                if ended {
                    return true;
                }
                i = skip_quoted(b, i);
                continue;
            }
            b'#' => i = skip_line(b, i),
            b'-' if next == Some(b'-')
                && b.get(i + 2)
                    .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control()) =>
            {
                i = skip_line(b, i)
            }
            b'/' if next == Some(b'*') => {
                let executable = matches!(b.get(i + 2), Some(b'!'))
                    || (b.get(i + 2) == Some(&b'M') && b.get(i + 3) == Some(&b'!'));
                if executable {
                    if ended {
                        return true;
                    }
                    i += 3; // the body is code; its closing `*/` is skipped below
                    continue;
                }
                i = match sql[i + 2..].find("*/") {
                    Some(end) => i + 2 + end + 2,
                    None => b.len(),
                };
                continue;
            }
            b'*' if next == Some(b'/') => i += 1,
            b';' => ended = true,
            c if c.is_ascii_whitespace() => {}
            _ => {
                if ended {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

/// The index just past the quoted string starting at `start`.
fn skip_quoted(b: &[u8], start: usize) -> usize {
    let q = b[start];
    let mut j = start + 1;
    while j < b.len() {
        if b[j] == b'\\' && q != b'`' {
            j += 2;
            continue;
        }
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// The index of the newline ending the comment at `start` (or the end).
fn skip_line(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| start + p)
}
