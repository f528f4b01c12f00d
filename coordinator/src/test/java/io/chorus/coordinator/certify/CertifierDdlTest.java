package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.ConflictRow;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** DDL in certification: a barrier that never loses and makes concurrent changes to its relations lose. */
class CertifierDdlTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static long lsn;

    private static RowChange insertP(String pk) {
        Tuple t = Tuple.ofTexts(pk, "0", null);
        return new RowChange(SimSchema.P_REL, Op.INSERT, t, null, false, SimSchema.keys("p", Op.INSERT, null, t));
    }

    private static MessageChange ddlOnP(String sql) {
        return new MessageChange("chorus_ddl", ("{\"v\":1,\"sql\":\"" + sql + "\",\"search_path\":\"public\","
                + "\"role\":\"app\",\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"p\"]]}")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static ChangeSet cs(NodeId origin, long deps, Change... changes) {
        return new ChangeSet(new Gtid(origin, Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(changes));
    }

    private static Certifier certifier() {
        Certifier c = new Certifier(CertifierConfig.defaults());
        c.onMembers(Set.of(A, B));
        return c;
    }

    @Test
    void aConcurrentChangeOrderedAfterTheDdlLosesToItOnItsRelation() {
        Certifier c = certifier();
        c.certify(Gsn.of(1), cs(A, 0, insertP("1")));
        Verdict ddl = c.certify(Gsn.of(2), cs(A, 1, ddlOnP("ALTER TABLE p DROP COLUMN u")));
        assertThat(ddl.lostIndexes()).isEmpty();
        assertThat(ddl.appliedKeys()).containsExactly(Key.table(SimSchema.P));
        Verdict late = c.certify(Gsn.of(3), cs(B, 1, insertP("2")));
        assertThat(late.conflictRows()).containsExactly(
                new ConflictRow(3, 0, "ddl_insert", "b", 2, "a", "public.p", "WRITE:public.p/pkey[2]", 2));
        Verdict seen = c.certify(Gsn.of(4), cs(B, 2, insertP("3")));
        assertThat(seen.lostIndexes()).as("a change that saw the DDL is certified as usual").isEmpty();
    }

    @Test
    void aDdlStatementNeverLosesEvenToAnEarlierChangeItDidNotSee() {
        Certifier c = certifier();
        c.certify(Gsn.of(1), cs(B, 0, insertP("1")));
        Verdict ddl = c.certify(Gsn.of(2), cs(A, 0, insertP("9"), ddlOnP("ALTER TABLE p ADD COLUMN w int")));
        assertThat(ddl.lostIndexes()).isEmpty();
        assertThat(ddl.winningChanges()).hasSize(2);
        Verdict other = c.certify(Gsn.of(3), cs(B, 0, insertP("5")));
        assertThat(other.conflicts()).extracting(Conflict::kind).containsExactly("ddl_insert");
    }

    @Test
    void whenRowsOfADdlTransactionLoseTheyLoseTogetherAndTheDdlStillApplies() {
        Certifier c = certifier();
        c.certify(Gsn.of(1), cs(B, 0, insertP("1")));
        Verdict v = c.certify(Gsn.of(2), cs(A, 0, insertP("1"), ddlOnP("ALTER TABLE p RENAME u TO w"), insertP("7")));
        assertThat(v.lostIndexes()).containsExactly(0, 2);
        assertThat(v.winningChanges()).singleElement().isInstanceOf(MessageChange.class);
        assertThat(v.appliedKeys()).containsExactly(Key.table(SimSchema.P));
        Verdict late = c.certify(Gsn.of(3), cs(B, 1, insertP("8")));
        assertThat(late.conflicts()).extracting(Conflict::kind).containsExactly("ddl_insert");
    }

    @Test
    void ddlOfTwoOriginsAtTheSameTimeBothApplyInTotalOrder() {
        Certifier c = certifier();
        Verdict first = c.certify(Gsn.of(1), cs(A, 0, ddlOnP("CREATE INDEX pa ON p(v)")));
        Verdict second = c.certify(Gsn.of(2), cs(B, 0, ddlOnP("CREATE INDEX pb ON p(u)")));
        assertThat(first.lostIndexes()).isEmpty();
        assertThat(second.lostIndexes()).isEmpty();
        assertThat(second.winningChanges()).hasSize(1);
    }
}
