package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Bank transfers between {@value #ACCOUNTS} accounts: whatever wins or loses, the total stays the same on every node.
 * Each transfer also writes a journal row ({@code bank_transfers}: unique id, from, to, amount, node) in the same
 * transaction, so a transfer wins or loses together with its journal row, and the verdict can say which account went
 * wrong: on a converged node every balance must equal {@value #INITIAL} − its transfers out + its transfers in, over
 * the journal rows present.
 */
public final class Bank implements Workload {
    static final int ACCOUNTS = 200;
    static final long INITIAL = 1000;
    /** Accounts named in one problem, at most (the first ones by id). */
    private static final int SHOWN_ACCOUNTS = 5;

    @Override
    public String name() {
        return "bank";
    }

    @Override
    public String schema() {
        return "CREATE TABLE bank_accounts (id int PRIMARY KEY, balance bigint NOT NULL, updated_by text);\n"
                + "INSERT INTO bank_accounts SELECT g, " + INITIAL + ", 'seed' FROM generate_series(1, " + ACCOUNTS + ") g;\n"
                + "CREATE TABLE bank_transfers (id bigint PRIMARY KEY, src int NOT NULL, dst int NOT NULL, "
                + "amount int NOT NULL, node int NOT NULL);\n";
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
        move(c, Math.min(a, b), a < b ? -amount : amount, by);
        move(c, Math.max(a, b), a < b ? amount : -amount, by);
        Sql.exec(c, "INSERT INTO bank_transfers (id, src, dst, amount, node) VALUES (?, ?, ?, ?, ?)",
                w.uniqueId(), a, b, amount, w.node());
        return null;
    }

    /**
     * One leg of a transfer. Accounts are never deleted, so an UPDATE that finds no row means the account was
     * replaced under the waiting statement (deleted and inserted by a concurrent transaction): the transfer would
     * commit one leg only, so it is rolled back as a careful application would, and counted as refused locally
     * (SQLState 40001, as for a serialization failure), never committed as a half transfer.
     */
    private static void move(Connection c, int account, int delta, String by) throws SQLException {
        int rows = Sql.exec(c, "UPDATE bank_accounts SET balance = balance + ?, updated_by = ? WHERE id = ?", delta, by, account);
        if (rows != 1) {
            throw new SQLException("bank: the UPDATE of account " + account + " by " + by + " found " + rows
                    + " rows (the row was replaced under the waiting statement); the transfer is rolled back", "40001");
        }
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
            problems.addAll(journalMismatches(n.getKey(), n.getValue()));
        }
        return problems;
    }

    /** Accounts whose balance differs from what the journal rows present say, each with the transfers touching it. */
    private static List<String> journalMismatches(String node, Connection c) throws SQLException {
        List<String> accounts = Sql.column(c, "WITH moved AS ("
                + " SELECT src AS id, -amount AS delta FROM bank_transfers UNION ALL SELECT dst, amount FROM bank_transfers),"
                + " expected AS (SELECT a.id, a.balance, " + INITIAL + " + coalesce(sum(m.delta), 0) AS want"
                + " FROM bank_accounts a LEFT JOIN moved m ON m.id = a.id GROUP BY a.id, a.balance)"
                + " SELECT id || ':' || balance || ':' || want FROM expected WHERE balance <> want ORDER BY id");
        List<String> problems = new ArrayList<>();
        for (String a : accounts.subList(0, Math.min(SHOWN_ACCOUNTS, accounts.size()))) {
            String[] f = a.split(":");
            List<String> transfers = Sql.column(c, "SELECT 'transfer ' || id || ' node' || node || ' ' || src || '->' || dst"
                    + " || ' ' || amount FROM bank_transfers WHERE src = " + Integer.parseInt(f[0]) + " OR dst = "
                    + Integer.parseInt(f[0]) + " ORDER BY id LIMIT 40");
            problems.add("bank: " + node + " account " + f[0] + " holds " + f[1] + " but its journal says " + f[2]
                    + " (a lost update or a stray image: follow its changesets by GSN in the sidecar logs); "
                    + transfers.size() + " transfers touch it: " + transfers);
        }
        if (accounts.size() > SHOWN_ACCOUNTS) {
            problems.add("bank: " + node + " has " + accounts.size() + " accounts off their journal in all; the first "
                    + SHOWN_ACCOUNTS + " are shown");
        }
        return problems;
    }
}
