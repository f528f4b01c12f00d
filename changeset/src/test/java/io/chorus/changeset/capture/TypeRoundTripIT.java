package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.awaitCount;
import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every built-in type family arrives in exactly the text form the server prints for the stored value
 * (its output function, {@code format('%s', col)}), including edge values, and NULL stays NULL.
 */
class TypeRoundTripIT {
    private record Col(String name, String type, String literal) {
    }

    private static List<Col> columns(int major) {
        List<Col> c = new ArrayList<>(List.of(
                new Col("i2", "smallint", "-32768"), new Col("i4", "integer", "2147483647"),
                new Col("i8", "bigint", "-9223372036854775808"), new Col("b", "boolean", "true"),
                new Col("n_nan", "numeric", "'NaN'"), new Col("n_inf", "numeric", "'-Infinity'"),
                new Col("n_big", "numeric", "('9' || repeat('8', 998) || '.5')::numeric"),
                new Col("n_scale", "numeric(12,4)", "-12345678.9"),
                new Col("f4_nan", "real", "'NaN'"), new Col("f8_pinf", "double precision", "'Infinity'"),
                new Col("f8_ninf", "double precision", "'-Infinity'"), new Col("f8_negzero", "double precision", "'-0'"),
                new Col("f8_tiny", "double precision", "1.2345678901234567e-300"), new Col("f4", "real", "3.4028235e38"),
                new Col("t_planes", "text", "E'nul\\u0001 tab\\t nl\\n bs\\\\ q'' é 中 \\U0001F600 \\U00020000 \\U000E0001 \\U000F0000 \\U0010FFFD'"),
                new Col("vc", "varchar(10)", "'  padded'"), new Col("ch", "char(5)", "'ab'"),
                new Col("by", "bytea", "'\\x00ff10'::bytea || decode(repeat('ab', 100), 'hex')"),
                new Col("js", "json", "'{\"b\": [1, 2.50, null], \"a\" : \"\\u00e9\"}'"),
                new Col("jb", "jsonb", "'{\"b\": [1, 2.50, null], \"a\": \"x\"}'"),
                new Col("arr_nested", "integer[]", "'{{1,2},{3,NULL}}'"),
                new Col("arr_text", "text[]", "ARRAY['a b', NULL, 'NULL', 'q\"uote', '', 'back\\slash']"),
                new Col("d_inf", "date", "'infinity'"), new Col("d_bc", "date", "'4713-01-01 BC'"),
                new Col("tm", "time", "'23:59:59.999999'"), new Col("tmtz", "timetz", "'12:00:00+05:30'"),
                new Col("ts_ninf", "timestamp", "'-infinity'"), new Col("ts", "timestamp", "'2024-02-29 12:34:56.789012'"),
                new Col("tstz", "timestamptz", "'2024-02-29 12:34:56.789012+05:30'"), new Col("tstz_inf", "timestamptz", "'infinity'"),
                new Col("iv", "interval", "'1 year 2 mons -3 days 04:05:06.789'"),
                new Col("uu", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"), new Col("ip6", "inet", "'::1/128'"),
                new Col("ip4", "inet", "'192.168.0.1/24'"), new Col("net", "cidr", "'10.0.0.0/8'"),
                new Col("mac", "macaddr", "'08:00:2b:01:02:03'"), new Col("mon", "money", "-1234.56"),
                new Col("bits", "bit(8)", "B'10101010'"), new Col("vbits", "bit varying", "B'101'"),
                new Col("mood", "mood", "'ok ''quoted'''"), new Col("dom", "posint", "42"),
                new Col("comp", "complex", "ROW(1.5, 'with \"quote\", comma')::complex"),
                new Col("r_int", "int4range", "'[1,10)'"), new Col("r_empty", "numrange", "'empty'"),
                new Col("r_ts", "tstzrange", "'[2024-01-01 00:00+00,infinity)'"),
                new Col("mr", "int4multirange", "'{[1,3), [5,7)}'"),
                new Col("pt", "point", "'(1.5,-2)'"), new Col("tsv", "tsvector", "'a fat cat'"),
                new Col("x", "xml", "'<a b=\"1\">t</a>'"), new Col("oidc", "oid", "4294967295")));
        if (major >= 17) {
            c.add(new Col("iv_inf", "interval", "'infinity'"));
        }
        return c;
    }

    @Test
    void everyTypeFamilyRoundTripsExactlyInTextForm() throws SQLException {
        try (PgServer pg = PgServer.start("types")) {
            pg.createDatabase("types");
            int major = Integer.parseInt(CaptureTestSupport.query(pg, "types", "SHOW server_version_num")) / 10000;
            List<Col> cols = columns(major);
            StringBuilder ddl = new StringBuilder("CREATE TABLE t(id int PRIMARY KEY");
            StringBuilder values = new StringBuilder("INSERT INTO t VALUES (1");
            for (Col c : cols) {
                ddl.append(", ").append(c.name()).append(' ').append(c.type());
                values.append(", ").append(c.literal());
            }
            exec(pg, "types", "SET lc_monetary = 'C'", "CREATE TYPE mood AS ENUM ('sad', 'ok ''quoted''')",
                    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)", "CREATE TYPE complex AS (r float8, s text)",
                    ddl.append(')').toString());
            RecordingListener rec = new RecordingListener();
            try (SlotCapture cap = CaptureTestSupport.startDelivering(config(pg, "types"), rec)) {
                exec(pg, "types", values.append(')').toString(), "INSERT INTO t(id) VALUES (2)");
                awaitCount(rec, 2);
                for (int id = 1; id <= 2; id++) {
                    Tuple got = ((RowChange) rec.deduped().get(id - 1).changes().get(0)).newTuple();
                    Tuple expected = serverText(pg, id, cols);
                    for (int i = 0; i <= cols.size(); i++) {
                        String name = i == 0 ? "id" : cols.get(i - 1).name();
                        assertThat(got.state(i)).as("state of %s in row %d", name, id).isEqualTo(expected.state(i));
                        assertThat(got.text(i)).as("text of %s in row %d", name, id).isEqualTo(expected.text(i));
                    }
                }
            }
        }
    }

    private static Tuple serverText(PgServer pg, int id, List<Col> cols) throws SQLException {
        // format('%s') prints with the type's output function, as pgoutput does (bool::text would say "true", not "t")
        StringBuilder sql = new StringBuilder("SELECT id::text");
        for (Col c : cols) {
            sql.append(", CASE WHEN ").append(c.name()).append(" IS NULL THEN NULL ELSE format('%s', ").append(c.name()).append(") END");
        }
        try (Connection c = pg.connect("types"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql.append(" FROM t WHERE id = ").append(id).toString())) {
            rs.next();
            String[] texts = new String[cols.size() + 1];
            for (int i = 0; i < texts.length; i++) {
                texts[i] = rs.getString(i + 1);
            }
            return Tuple.ofTexts(texts);
        }
    }
}
