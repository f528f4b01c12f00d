package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Bank transfers between {@value #ACCOUNTS} accounts: whatever wins or loses, the total stays the same on every node. */
public final class Bank implements Workload {
    static final int ACCOUNTS = 200;
    static final long INITIAL = 1000;

    @Override
    public String name() {
        return "bank";
    }

    @Override
    public String schema() {
        return "CREATE TABLE bank_accounts (id int PRIMARY KEY, balance bigint NOT NULL, updated_by text);\n"
                + "INSERT INTO bank_accounts SELECT g, " + INITIAL + ", 'seed' FROM generate_series(1, " + ACCOUNTS + ") g;\n";
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
        int a = 1 + rnd.nextInt(ACCOUNTS);
        int b = 1 + rnd.nextInt(ACCOUNTS - 1);
        if (b >= a) {
            b++;
        }
        int amount = 1 + rnd.nextInt(50);
        String by = "node" + w.node();
        // lower id first: concurrent transfers on one node never deadlock
        Sql.exec(c, "UPDATE bank_accounts SET balance = balance + ?, updated_by = ? WHERE id = ?", a < b ? -amount : amount, by, Math.min(a, b));
        Sql.exec(c, "UPDATE bank_accounts SET balance = balance + ?, updated_by = ? WHERE id = ?", a < b ? amount : -amount, by, Math.max(a, b));
        return null;
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            long sum = Sql.number(n.getValue(), "SELECT coalesce(sum(balance), 0) FROM bank_accounts");
            long count = Sql.number(n.getValue(), "SELECT count(*) FROM bank_accounts");
            if (sum != ACCOUNTS * INITIAL || count != ACCOUNTS) {
                problems.add("bank: " + n.getKey() + " holds " + count + " accounts with total " + sum + ", expected "
                        + ACCOUNTS + " accounts with total " + ACCOUNTS * INITIAL + " (a transfer was applied in part)");
            }
        }
        return problems;
    }
}
