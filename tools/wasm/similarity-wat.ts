/**
 * The WebAssembly text of the sanity check's hot loops (src-main/engine/trust/similarity.ts defines them in
 * JavaScript; this is the same arithmetic, in the same order per value): the ranks of a float32 map (radix
 * sort of the float bits, zeros counted), Pearson's correlation of two rank vectors, and SSIM with the
 * 11-wide window, two outputs at a time in f64x2 lanes. Written by code because SSIM's taps are unrolled.
 */

/** SSIM's stabilising constants, as similarity.ts writes them (printed exactly into the text). */
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** SSIM's per-output arithmetic on `t` lanes: 'f64x2' (two adjacent outputs) or 'f64' (one). */
function ssimBody(t: 'f64x2' | 'f64'): { rows: string; columns: string } {
  const v = t === 'f64x2';
  // A pair of f32 values widened to f64x2, or one value.
  const loadB = (addr: string): string =>
    v ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${addr}))` : `(f64.promote_f32 (f32.load ${addr}))`;
  const loadF64 = (addr: string): string => (v ? `(v128.load ${addr})` : `(f64.load ${addr})`);
  const store = (addr: string, value: string): string => (v ? `(v128.store ${addr} ${value})` : `(f64.store ${addr} ${value})`);
  const op = (name: string, ...args: string[]): string => `(${t}.${name} ${args.join(' ')})`;
  const w = (k: number): string => (v ? `(local.get $v${k})` : `(local.get $w${k})`);
  // b[c ± d] as a byte address: $bc is the byte address of b[c] (f32), $xc of x[c] (f64).
  const bAt = (d: number): string => `(i32.add (local.get $bc) (i32.const ${4 * d}))`;
  const xAt = (d: number): string => `(i32.add (local.get $xc) (i32.const ${8 * d}))`;
  let rows = `
        (local.set $${t}_vc ${loadB(bAt(0))})
        (local.set $${t}_sy ${op('mul', w(0), `(local.get $${t}_vc)`)})
        (local.set $${t}_syy ${op('mul', `(local.get $${t}_sy)`, `(local.get $${t}_vc)`)})
        (local.set $${t}_sxy ${op('mul', `(local.get $${t}_sy)`, loadF64(xAt(0)))})`;
  for (let k = 1; k <= 5; k++) {
    rows += `
        (local.set $${t}_va ${loadB(bAt(-k))})
        (local.set $${t}_vb ${loadB(bAt(k))})
        (local.set $${t}_sy ${op('add', `(local.get $${t}_sy)`, op('mul', w(k), op('add', `(local.get $${t}_va)`, `(local.get $${t}_vb)`)))})
        (local.set $${t}_syy ${op('add', `(local.get $${t}_syy)`, op('mul', w(k), op('add', op('mul', `(local.get $${t}_va)`, `(local.get $${t}_va)`), op('mul', `(local.get $${t}_vb)`, `(local.get $${t}_vb)`))))})
        (local.set $${t}_sxy ${op('add', `(local.get $${t}_sxy)`, op('mul', w(k), op('add', op('mul', `(local.get $${t}_va)`, loadF64(xAt(-k))), op('mul', `(local.get $${t}_vb)`, loadF64(xAt(k))))))})`;
  }
  rows += `
        ${store('(local.get $ro)', `(local.get $${t}_sy)`)}
        ${store('(i32.add (local.get $ro) (local.get $planeBytes))', `(local.get $${t}_syy)`)}
        ${store('(i32.add (local.get $ro) (local.get $plane2Bytes))', `(local.get $${t}_sxy)`)}`;
  // Column pass at flat output q: rows at c = q + 5·ow, ± k·ow; $rc is the byte address of rows[c].
  const tapSum = (plane: string): string => {
    const at = (d: number): string => loadF64(`(i32.add (local.get $rc) (i32.add ${plane} (i32.const ${8 * d})))`);
    const atStride = (sign: 1 | -1, k: number): string =>
      loadF64(
        `(i32.${sign > 0 ? 'add' : 'sub'} (i32.add (local.get $rc) ${plane}) (i32.mul (local.get $owBytes) (i32.const ${k})))`,
      );
    let sum = op('mul', w(0), at(0));
    for (let k = 1; k <= 5; k++) sum = op('add', sum, op('mul', w(k), op('add', atStride(-1, k), atStride(1, k))));
    return sum;
  };
  const c1 = v ? '(local.get $c1)' : `(f64.const ${C1})`;
  const c2 = v ? '(local.get $c2)' : `(f64.const ${C2})`;
  const two = v ? '(local.get $two)' : '(f64.const 2)';
  const columns = `
        (local.set $${t}_uy ${tapSum('(i32.const 0)')})
        (local.set $${t}_syy ${tapSum('(local.get $planeBytes)')})
        (local.set $${t}_sxy ${tapSum('(local.get $plane2Bytes)')})
        (local.set $${t}_ux ${loadF64('(local.get $mq)')})
        (local.set $${t}_vx ${op('sub', loadF64('(local.get $sq)'), op('mul', `(local.get $${t}_ux)`, `(local.get $${t}_ux)`))})
        (local.set $${t}_vy ${op('sub', `(local.get $${t}_syy)`, op('mul', `(local.get $${t}_uy)`, `(local.get $${t}_uy)`))})
        (local.set $${t}_cxy ${op('sub', `(local.get $${t}_sxy)`, op('mul', `(local.get $${t}_ux)`, `(local.get $${t}_uy)`))})
        (local.set $${t}_total ${op(
          'add',
          `(local.get $${t}_total)`,
          op(
            'div',
            op(
              'mul',
              op('add', op('mul', op('mul', two, `(local.get $${t}_ux)`), `(local.get $${t}_uy)`), c1),
              op('add', op('mul', two, `(local.get $${t}_cxy)`), c2),
            ),
            op(
              'mul',
              op(
                'add',
                op(
                  'add',
                  op('mul', `(local.get $${t}_ux)`, `(local.get $${t}_ux)`),
                  op('mul', `(local.get $${t}_uy)`, `(local.get $${t}_uy)`),
                ),
                c1,
              ),
              op('add', op('add', `(local.get $${t}_vx)`, `(local.get $${t}_vy)`), c2),
            ),
          ),
        )})`;
  return { rows, columns };
}

function ssimFunction(): string {
  const locals = (t: string, type: string): string =>
    ['vc', 'va', 'vb', 'sy', 'syy', 'sxy', 'uy', 'ux', 'vx', 'vy', 'cxy', 'total']
      .map((n) => `(local $${t}_${n} ${type})`)
      .join(' ');
  const pair = ssimBody('f64x2');
  const one = ssimBody('f64');
  return `
  ;; Mean SSIM of the reference (x [n] f64; its local mean and mean square [oh·ow] f64) and b [n] f32,
  ;; window 11 wide with the weights w0 (centre) … w5; rows: scratch of 3 planes of height·ow + 2 f64.
  (func (export "ssim11")
    (param $x i32) (param $mean i32) (param $msq i32) (param $b i32) (param $rows i32)
    (param $width i32) (param $height i32)
    (param $w0 f64) (param $w1 f64) (param $w2 f64) (param $w3 f64) (param $w4 f64) (param $w5 f64)
    (result f64)
    (local $ow i32) (local $oh i32) (local $planeBytes i32) (local $plane2Bytes i32) (local $owBytes i32)
    (local $y i32) (local $i i32) (local $q i32) (local $count i32)
    (local $bc i32) (local $xc i32) (local $ro i32) (local $rc i32) (local $mq i32) (local $sq i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128) (local $v5 v128)
    (local $c1 v128) (local $c2 v128) (local $two v128)
    ${locals('f64x2', 'v128')} ${locals('f64', 'f64')}
    (local.set $ow (i32.sub (local.get $width) (i32.const 10)))
    (local.set $oh (i32.sub (local.get $height) (i32.const 10)))
    (local.set $owBytes (i32.shl (local.get $ow) (i32.const 3)))
    (local.set $planeBytes (i32.shl (i32.add (i32.mul (local.get $height) (local.get $ow)) (i32.const 2)) (i32.const 3)))
    (local.set $plane2Bytes (i32.shl (local.get $planeBytes) (i32.const 1)))
    (local.set $v0 (f64x2.splat (local.get $w0)))
    (local.set $v1 (f64x2.splat (local.get $w1)))
    (local.set $v2 (f64x2.splat (local.get $w2)))
    (local.set $v3 (f64x2.splat (local.get $w3)))
    (local.set $v4 (f64x2.splat (local.get $w4)))
    (local.set $v5 (f64x2.splat (local.get $w5)))
    (local.set $c1 (f64x2.splat (f64.const ${C1})))
    (local.set $c2 (f64x2.splat (f64.const ${C2})))
    (local.set $two (f64x2.splat (f64.const 2)))
    ;; Row pass: each row's ow outputs, two at a time, then the odd one out.
    (local.set $y (i32.const 0))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $height)))
      (local.set $i (i32.const 0))
      (block $pairsDone (loop $pairLoop
        (br_if $pairsDone (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $ow)))
        (local.set $bc (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $width)) (i32.add (local.get $i) (i32.const 5))) (i32.const 2))))
        (local.set $xc (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $width)) (i32.add (local.get $i) (i32.const 5))) (i32.const 3))))
        (local.set $ro (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $ow)) (local.get $i)) (i32.const 3))))
        ${pair.rows}
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairLoop)))
      (if (i32.lt_u (local.get $i) (local.get $ow)) (then
        (local.set $bc (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $width)) (i32.add (local.get $i) (i32.const 5))) (i32.const 2))))
        (local.set $xc (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $width)) (i32.add (local.get $i) (i32.const 5))) (i32.const 3))))
        (local.set $ro (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $ow)) (local.get $i)) (i32.const 3))))
        ${one.rows}))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rowLoop)))
    ;; Column pass over the flat outputs q (row j, column i at q = j·ow + i read rows at q + 5·ow ± k·ow).
    (local.set $count (i32.mul (local.get $oh) (local.get $ow)))
    (local.set $f64x2_total (f64x2.splat (f64.const 0)))
    (local.set $q (i32.const 0))
    (block $colsDone (loop $colLoop
      (br_if $colsDone (i32.gt_u (i32.add (local.get $q) (i32.const 2)) (local.get $count)))
      (local.set $rc (i32.add (local.get $rows) (i32.shl (i32.add (local.get $q) (i32.mul (local.get $ow) (i32.const 5))) (i32.const 3))))
      (local.set $mq (i32.add (local.get $mean) (i32.shl (local.get $q) (i32.const 3))))
      (local.set $sq (i32.add (local.get $msq) (i32.shl (local.get $q) (i32.const 3))))
      ${pair.columns}
      (local.set $q (i32.add (local.get $q) (i32.const 2)))
      (br $colLoop)))
    (local.set $f64_total (f64.add (f64x2.extract_lane 0 (local.get $f64x2_total)) (f64x2.extract_lane 1 (local.get $f64x2_total))))
    (if (i32.lt_u (local.get $q) (local.get $count)) (then
      (local.set $rc (i32.add (local.get $rows) (i32.shl (i32.add (local.get $q) (i32.mul (local.get $ow) (i32.const 5))) (i32.const 3))))
      (local.set $mq (i32.add (local.get $mean) (i32.shl (local.get $q) (i32.const 3))))
      (local.set $sq (i32.add (local.get $msq) (i32.shl (local.get $q) (i32.const 3))))
      ${one.columns}))
    (f64.div (local.get $f64_total) (f64.convert_i32_u (local.get $count))))`;
}

const DIGIT_BITS = 11;
const DIGITS = 1 << DIGIT_BITS;

function ranksFunction(): string {
  const u32 = (base: string, index: string): string => `(i32.add ${base} (i32.shl ${index} (i32.const 2)))`;
  const bump = (addr: string): string => `(i32.store ${addr} (i32.add (i32.load ${addr}) (i32.const 1)))`;
  return `
  ;; Ranks 1…n of the f32 values (ties their average rank) into out [n] f64, as float32Ranks: zeros (±0)
  ;; counted, the other keys (bits made monotone) radix-sorted in three 11-bit digits, a digit every key
  ;; shares skipped. scratch: 4n u32; counts: 3 × ${DIGITS} u32.
  (func (export "ranks") (param $values i32) (param $n i32) (param $out i32) (param $scratch i32) (param $counts i32)
    (local $keys i32) (local $index i32) (local $keysNext i32) (local $indexNext i32) (local $swap i32)
    (local $i i32) (local $m i32) (local $zeros i32) (local $b i32) (local $k i32) (local $pass i32)
    (local $base i32) (local $shift i32) (local $d i32) (local $sum i32) (local $c i32) (local $at i32)
    (local $negatives i32) (local $start i32) (local $end i32) (local $j i32) (local $rank f64) (local $lift f64)
    (local.set $keys (local.get $scratch))
    (local.set $index (i32.add (local.get $scratch) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $keysNext (i32.add (local.get $scratch) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $indexNext (i32.add (local.get $keysNext) (i32.shl (local.get $n) (i32.const 2))))
    (memory.fill (local.get $counts) (i32.const 0) (i32.const ${3 * DIGITS * 4}))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $b (i32.load ${u32('(local.get $values)', '(local.get $i)')}))
      (if (i32.eqz (i32.shl (local.get $b) (i32.const 1)))
        (then (local.set $zeros (i32.add (local.get $zeros) (i32.const 1))))
        (else
          (local.set $k (select
            (i32.xor (local.get $b) (i32.const -1))
            (i32.or (local.get $b) (i32.const 0x80000000))
            (i32.lt_s (local.get $b) (i32.const 0))))
          (i32.store ${u32('(local.get $keys)', '(local.get $m)')} (local.get $k))
          (i32.store ${u32('(local.get $index)', '(local.get $m)')} (local.get $i))
          (local.set $m (i32.add (local.get $m) (i32.const 1)))
          ${bump(u32('(local.get $counts)', `(i32.and (local.get $k) (i32.const ${DIGITS - 1}))`))}
          ${bump(u32('(local.get $counts)', `(i32.add (i32.const ${DIGITS}) (i32.and (i32.shr_u (local.get $k) (i32.const ${DIGIT_BITS})) (i32.const ${DIGITS - 1})))`))}
          ${bump(u32('(local.get $counts)', `(i32.add (i32.const ${2 * DIGITS}) (i32.shr_u (local.get $k) (i32.const ${2 * DIGIT_BITS})))`))}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (block $passesDone (loop $passLoop
      (br_if $passesDone (i32.ge_u (local.get $pass) (i32.const 3)))
      (local.set $base (i32.mul (local.get $pass) (i32.const ${DIGITS})))
      (local.set $shift (i32.mul (local.get $pass) (i32.const ${DIGIT_BITS})))
      (block $skip
        (br_if $skip (i32.eqz (local.get $m)))
        (br_if $skip (i32.eq
          (i32.load ${u32('(local.get $counts)', `(i32.add (local.get $base) (i32.and (i32.shr_u (i32.load (local.get $keys)) (local.get $shift)) (i32.const ${DIGITS - 1})))`)})
          (local.get $m)))
        (local.set $sum (i32.const 0))
        (local.set $d (i32.const 0))
        (block $prefixDone (loop $prefix
          (br_if $prefixDone (i32.ge_u (local.get $d) (i32.const ${DIGITS})))
          (local.set $at ${u32('(local.get $counts)', '(i32.add (local.get $base) (local.get $d))')})
          (local.set $c (i32.load (local.get $at)))
          (i32.store (local.get $at) (local.get $sum))
          (local.set $sum (i32.add (local.get $sum) (local.get $c)))
          (local.set $d (i32.add (local.get $d) (i32.const 1)))
          (br $prefix)))
        (local.set $i (i32.const 0))
        (block $scatterDone (loop $scatter
          (br_if $scatterDone (i32.ge_u (local.get $i) (local.get $m)))
          (local.set $k (i32.load ${u32('(local.get $keys)', '(local.get $i)')}))
          (local.set $at ${u32('(local.get $counts)', `(i32.add (local.get $base) (i32.and (i32.shr_u (local.get $k) (local.get $shift)) (i32.const ${DIGITS - 1})))`)})
          (local.set $c (i32.load (local.get $at)))
          (i32.store (local.get $at) (i32.add (local.get $c) (i32.const 1)))
          (i32.store ${u32('(local.get $keysNext)', '(local.get $c)')} (local.get $k))
          (i32.store ${u32('(local.get $indexNext)', '(local.get $c)')} (i32.load ${u32('(local.get $index)', '(local.get $i)')}))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $scatter)))
        (local.set $swap (local.get $keys)) (local.set $keys (local.get $keysNext)) (local.set $keysNext (local.get $swap))
        (local.set $swap (local.get $index)) (local.set $index (local.get $indexNext)) (local.set $indexNext (local.get $swap)))
      (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
      (br $passLoop)))
    ;; Negative values' keys are below 0x80000000 (zero's), positive values' above.
    (block $negDone (loop $neg
      (br_if $negDone (i32.ge_u (local.get $negatives) (local.get $m)))
      (br_if $negDone (i32.ge_u (i32.load ${u32('(local.get $keys)', '(local.get $negatives)')}) (i32.const 0x80000000)))
      (local.set $negatives (i32.add (local.get $negatives) (i32.const 1)))
      (br $neg)))
    (if (local.get $zeros) (then
      (local.set $rank (f64.add (f64.convert_i32_u (local.get $negatives)) (f64.div (f64.convert_i32_u (i32.add (local.get $zeros) (i32.const 1))) (f64.const 2))))
      (local.set $i (i32.const 0))
      (block $zDone (loop $z
        (br_if $zDone (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (i32.shl (i32.load ${u32('(local.get $values)', '(local.get $i)')}) (i32.const 1)))
          (then (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $rank))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $z)))))
    (local.set $start (i32.const 0))
    (block $runsDone (loop $runs
      (br_if $runsDone (i32.ge_u (local.get $start) (local.get $m)))
      (local.set $k (i32.load ${u32('(local.get $keys)', '(local.get $start)')}))
      (local.set $end (i32.add (local.get $start) (i32.const 1)))
      (block $tieDone (loop $tie
        (br_if $tieDone (i32.ge_u (local.get $end) (local.get $m)))
        (br_if $tieDone (i32.ne (i32.load ${u32('(local.get $keys)', '(local.get $end)')}) (local.get $k)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $tie)))
      ;; Positions past the negatives move up by the zeros placed before them.
      (local.set $lift (select (f64.convert_i32_u (local.get $zeros)) (f64.const 0) (i32.ge_u (local.get $start) (local.get $negatives))))
      (local.set $rank (f64.add (f64.add (f64.div (f64.convert_i32_u (i32.sub (i32.add (local.get $start) (local.get $end)) (i32.const 1))) (f64.const 2)) (f64.const 1)) (local.get $lift)))
      (local.set $j (local.get $start))
      (block $setDone (loop $set
        (br_if $setDone (i32.ge_u (local.get $j) (local.get $end)))
        (f64.store (i32.add (local.get $out) (i32.shl (i32.load ${u32('(local.get $index)', '(local.get $j)')}) (i32.const 3))) (local.get $rank))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $set)))
      (local.set $start (local.get $end))
      (br $runs))))`;
}

function pearsonFunction(): string {
  return `
  ;; Pearson's correlation of a [n] and b [n] (f64), as pearson in similarity.ts; 0 when either is constant.
  (func (export "pearson") (param $a i32) (param $b i32) (param $n i32) (result f64)
    (local $i i32) (local $ma f64) (local $mb f64) (local $da f64) (local $db f64)
    (local $sab f64) (local $saa f64) (local $sbb f64) (local $pa i32) (local $pb i32)
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $ma (f64.add (local.get $ma) (f64.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $mb (f64.add (local.get $mb) (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l1)))
    (local.set $ma (f64.div (local.get $ma) (f64.convert_i32_u (local.get $n))))
    (local.set $mb (f64.div (local.get $mb) (f64.convert_i32_u (local.get $n))))
    (local.set $i (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $da (f64.sub (f64.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3)))) (local.get $ma)))
      (local.set $db (f64.sub (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3)))) (local.get $mb)))
      (local.set $sab (f64.add (local.get $sab) (f64.mul (local.get $da) (local.get $db))))
      (local.set $saa (f64.add (local.get $saa) (f64.mul (local.get $da) (local.get $da))))
      (local.set $sbb (f64.add (local.get $sbb) (f64.mul (local.get $db) (local.get $db))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2)))
    (if (result f64) (i32.and (f64.gt (local.get $saa) (f64.const 0)) (f64.gt (local.get $sbb) (f64.const 0)))
      (then (f64.div (local.get $sab) (f64.sqrt (f64.mul (local.get $saa) (local.get $sbb)))))
      (else (f64.const 0))))`;
}

export function similarityWat(): string {
  return `(module
  (memory (export "memory") 1)
${ranksFunction()}
${pearsonFunction()}
${ssimFunction()}
)
`;
}
