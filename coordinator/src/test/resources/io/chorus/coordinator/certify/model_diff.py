"""Replays histories exported by ModelExportTest with the reference model (sim_cert.py, variant fix) and compares
final states, lost changes and their causes.  Usage: python3 model_diff.py HISTORIES.jsonl MODEL_DIR"""
import json
import sys
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else '../shared/model')
import sim_cert as m
bad = 0; total = 0; lost_total = 0
for line in open(sys.argv[1]):
    h = json.loads(line)
    total += 1
    cfg = m.Cfg(h['mode'], 'fix')
    init = {(t, pk): tuple(vals) for t, pk, vals in h['init']}
    evs = []
    for e in h['events']:
        if e[0] == 'L':
            specs = []
            for s in e[2]:
                if s[0] == 'ins':
                    specs.append(('ins', s[1], s[2], tuple(s[3])))
                elif s[0] == 'upd':
                    specs.append(('upd', s[1], s[2], tuple(tuple(x) for x in s[3])))
                else:
                    specs.append(('del', s[1], s[2]))
            evs.append(('L', e[1], tuple(specs)))
        elif e[0] == 'A':
            evs.append(('A', e[1]))
        else:
            evs.append(('P', e[1], 0))
    w = m.replay(cfg, h['n'], init, evs)
    final = {(t, pk): tuple(vals) for t, pk, vals in h['final']}
    lost = {int(g): sorted(tuple(x) for x in l) for g, l in h['lost'].items()}
    mlost = {g: sorted(d.items()) for g, d in w.nodes[0].lost.items()}
    lost_total += sum(len(l) for l in lost.values())
    problems = []
    if w.failures: problems.append('model failures %s' % w.failures[:2])
    if w.nodes[0].db != final: problems.append('final state java %s model %s' % (sorted(final.items()), sorted(w.nodes[0].db.items())))
    if mlost != lost: problems.append('lost java %s model %s' % (lost, mlost))
    if problems:
        bad += 1
        if bad <= 3: print('seed', h['seed'], h['mode'], problems)
print('histories %d, lost changes %d, differing from the model: %d' % (total, lost_total, bad))
