;; matmul.wat: the float32 matmul kernel, bit-identical to referenceMatmul (reference-matmul.ts).
;;
;; Every output element is acc = +0, then for k ascending acc = fma(a, b, acc): f32x4.relaxed_madd, which the
;; WebAssembly specification lets an engine compute fused or as mul-then-add. wasm-matmul.ts uses this module
;; only after a probe run of it gave the fused bits (V8 on x86-64 with FMA3 and on ARM64 fuses); elsewhere the
;; reference kernel runs. No other relaxed SIMD. Vectors run across output columns, never across k, so each
;; lane is one output element summed in the reference order. Operands are packed and padded to whole tiles by
;; pack_a / pack_b (or by matmul-packing.ts for other strides); the padding rows and columns are computed
;; and dropped, so edge tiles are exact. Partial sums of a k block go through memory (exact for floats;
;; a NaN stays a NaN and canonicalize_nans rewrites it at the end). The memory is shared so that worker
;; threads run this same module on the same operands (wasm-matmul.ts).
;;
;; Tile: 4 rows x 8 columns (8 v128 accumulators, 2 B vectors and a splat). A is packed k-major so the 4
;; splats use constant offsets from one pointer.
;; Measured with mul-then-add (Node 20.20 / V8 11.3, 1 core of an AMD EPYC Zen 3 VM, GFLOP/s at n = 512 / 1024,
;; best of 3 processes):
;;   4x8  kc=256 group=32 panels  35.0 / 34.0
;;   4x8  kc=512 group=16 panels  35.9 / 35.1   <- chosen
;;   4x8  kc=128 group=32 panels  22.2 / 32.3
;;   4x8  k unrolled by 2         26.8 / 26.3   (V8 schedules the longer body worse)
;;   3x8 29.8 / 29.5; 2x16 31.3 / 30.7; 5x8 20.5 / 20.2; 6x8 24.6 / 24.2; 4x12 24.6 / 24.2; 8x4 16.6 / 16.0
;;   (5x8, 6x8 and 4x12 need 14-17 vector registers: V8 spills inside the k loop.)
;; Packing in JS element by element cost 20% at n = 512; copying rows into memory and packing here costs 2-3%.
;; The driver walks k in blocks of kc and B in groups of panels (the group stays in L2 while all A panels
;; of the thread's range pass over it); each tile call reads one A panel block and one B panel block.
(module
  (memory (import "env" "memory") 1 65536 shared)
  ;; One 4x8 output tile over kc values of k: a points at the A panel (4 floats per k), b at the B panel
  ;; (8 floats per k), c at the tile's first output element, rows ldc bytes apart. With first set the sums
  ;; start at +0, otherwise they continue from what c holds (the previous k block).
  (func $tile (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kc i32) (param $first i32)
    (local $c0_0 v128)
    (local $c0_1 v128)
    (local $c1_0 v128)
    (local $c1_1 v128)
    (local $c2_0 v128)
    (local $c2_1 v128)
    (local $c3_0 v128)
    (local $c3_1 v128)
    (local $b0 v128)
    (local $b1 v128)
    (local $s v128) (local $cr i32) (local $end i32)
    (if (i32.eqz (local.get $first)) (then
      (local.set $cr (local.get $c))
      (local.set $c0_0 (v128.load offset=0 (local.get $cr)))
      (local.set $c0_1 (v128.load offset=16 (local.get $cr)))
      (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
      (local.set $c1_0 (v128.load offset=0 (local.get $cr)))
      (local.set $c1_1 (v128.load offset=16 (local.get $cr)))
      (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
      (local.set $c2_0 (v128.load offset=0 (local.get $cr)))
      (local.set $c2_1 (v128.load offset=16 (local.get $cr)))
      (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
      (local.set $c3_0 (v128.load offset=0 (local.get $cr)))
      (local.set $c3_1 (v128.load offset=16 (local.get $cr)))
    ))
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $kc) (i32.const 32))))
    (loop $k
      (local.set $b0 (v128.load offset=0 (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $s (v128.load32_splat offset=0 (local.get $a)))
      (local.set $c0_0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c0_0)))
      (local.set $c0_1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c0_1)))
      (local.set $s (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c1_0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c1_0)))
      (local.set $c1_1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c1_1)))
      (local.set $s (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c2_0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c2_0)))
      (local.set $c2_1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c2_1)))
      (local.set $s (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c3_0 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c3_0)))
      (local.set $c3_1 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c3_1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $k (i32.ne (local.get $b) (local.get $end))))
    (local.set $cr (local.get $c))
    (v128.store offset=0 (local.get $cr) (local.get $c0_0))
    (v128.store offset=16 (local.get $cr) (local.get $c0_1))
    (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
    (v128.store offset=0 (local.get $cr) (local.get $c1_0))
    (v128.store offset=16 (local.get $cr) (local.get $c1_1))
    (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
    (v128.store offset=0 (local.get $cr) (local.get $c2_0))
    (v128.store offset=16 (local.get $cr) (local.get $c2_1))
    (local.set $cr (i32.add (local.get $cr) (local.get $ldc)))
    (v128.store offset=0 (local.get $cr) (local.get $c3_0))
    (v128.store offset=16 (local.get $cr) (local.get $c3_1))
  )

  ;; Computes the padded output rows of A panels [p0, p1): panel p covers rows p*MR.. of the padded output
  ;; (batch p / mPanels). k is walked in blocks of kc (partial sums go through memory, which is exact), and
  ;; the B panels in groups of ncp so that a group stays in L2 while every A panel of the range passes over it.
  (func (export "run") (param $aPack i32) (param $bPack i32) (param $bBatchBytes i32) (param $c i32) (param $ldc i32)
        (param $mPanels i32) (param $nPanels i32) (param $k i32) (param $kc i32) (param $ncp i32) (param $p0 i32) (param $p1 i32)
    (local $k0 i32) (local $kb i32) (local $j0 i32) (local $j1 i32) (local $p i32) (local $jp i32)
    (local $aPtr i32) (local $bPtr i32) (local $cPtr i32) (local $aPanelBytes i32) (local $bPanelBytes i32)
    (local.set $aPanelBytes (i32.mul (local.get $k) (i32.const 16)))
    (local.set $bPanelBytes (i32.mul (local.get $k) (i32.const 32)))
    (block $done (loop $kblocks
      (br_if $done (i32.ge_u (local.get $k0) (local.get $k)))
      (local.set $kb (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kb) (local.get $kc)) (then (local.set $kb (local.get $kc))))
      (local.set $j0 (i32.const 0))
      (block $jdone (loop $jgroups
        (br_if $jdone (i32.ge_u (local.get $j0) (local.get $nPanels)))
        (local.set $j1 (i32.add (local.get $j0) (local.get $ncp)))
        (if (i32.gt_u (local.get $j1) (local.get $nPanels)) (then (local.set $j1 (local.get $nPanels))))
        (local.set $p (local.get $p0))
        (block $pdone (loop $panels
          (br_if $pdone (i32.ge_u (local.get $p) (local.get $p1)))
          (local.set $aPtr (i32.add (i32.add (local.get $aPack) (i32.mul (local.get $p) (local.get $aPanelBytes)))
                                    (i32.mul (local.get $k0) (i32.const 16))))
          (local.set $bPtr (i32.add (i32.add (local.get $bPack) (i32.mul (i32.div_u (local.get $p) (local.get $mPanels)) (local.get $bBatchBytes)))
                                    (i32.add (i32.mul (local.get $k0) (i32.const 32)) (i32.mul (local.get $j0) (local.get $bPanelBytes)))))
          (local.set $cPtr (i32.add (i32.add (local.get $c) (i32.mul (i32.mul (local.get $p) (i32.const 4)) (local.get $ldc)))
                                    (i32.mul (local.get $j0) (i32.const 32))))
          (local.set $jp (local.get $j0))
          (loop $tiles
            (call $tile (local.get $aPtr) (local.get $bPtr) (local.get $cPtr) (local.get $ldc) (local.get $kb) (i32.eqz (local.get $k0)))
            (local.set $bPtr (i32.add (local.get $bPtr) (local.get $bPanelBytes)))
            (local.set $cPtr (i32.add (local.get $cPtr) (i32.const 32)))
            (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
            (br_if $tiles (i32.lt_u (local.get $jp) (local.get $j1))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $panels)))
        (local.set $j0 (local.get $j1))
        (br $jgroups)))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kb)))
      (br $kblocks)))
  )

  ;; Packs A rows for the kernel: rows [0, m) of k floats each, row r at src + r * rs bytes, into panels of
  ;; 4 rows, k-major (the 4 values of one k side by side); rows past m are zero.
  (func (export "pack_a") (param $src i32) (param $rs i32) (param $m i32) (param $k i32) (param $dst i32)
    (local $row i32) (local $q i32) (local $r i32) (local $p i32) (local $end i32)
    (local $r0 i32)
    (local $r1 i32)
    (local $r2 i32)
    (local $r3 i32)
    (block $done (loop $panels
      (br_if $done (i32.ge_u (local.get $row) (local.get $m)))
      (if (i32.le_u (i32.add (local.get $row) (i32.const 4)) (local.get $m))
        (then
          (local.set $r0 (i32.add (local.get $src) (i32.mul (local.get $row) (local.get $rs))))
          (local.set $r1 (i32.add (local.get $r0) (local.get $rs)))
          (local.set $r2 (i32.add (local.get $r1) (local.get $rs)))
          (local.set $r3 (i32.add (local.get $r2) (local.get $rs)))
          (local.set $end (i32.add (local.get $r0) (i32.shl (local.get $k) (i32.const 2))))
          (loop $ks
            (i32.store offset=0 (local.get $dst) (i32.load (local.get $r0)))
            (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
            (i32.store offset=4 (local.get $dst) (i32.load (local.get $r1)))
            (local.set $r1 (i32.add (local.get $r1) (i32.const 4)))
            (i32.store offset=8 (local.get $dst) (i32.load (local.get $r2)))
            (local.set $r2 (i32.add (local.get $r2) (i32.const 4)))
            (i32.store offset=12 (local.get $dst) (i32.load (local.get $r3)))
            (local.set $r3 (i32.add (local.get $r3) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br_if $ks (i32.ne (local.get $r0) (local.get $end)))))
        (else
          (local.set $q (i32.const 0))
          (loop $ks
            (local.set $r (i32.const 0))
            (loop $rows
              (local.set $p (i32.add (local.get $row) (local.get $r)))
              (i32.store (local.get $dst)
                (if (result i32) (i32.lt_u (local.get $p) (local.get $m))
                  (then (i32.load (i32.add (local.get $src) (i32.add (i32.mul (local.get $p) (local.get $rs)) (i32.shl (local.get $q) (i32.const 2))))))
                  (else (i32.const 0))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rows (i32.lt_u (local.get $r) (i32.const 4))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $ks (i32.lt_u (local.get $q) (local.get $k))))))
      (local.set $row (i32.add (local.get $row) (i32.const 4)))
      (br $panels)))
  )

  ;; Packs B for the kernel: k rows of n floats, row q at src + q * rs bytes, into panels of 8 columns,
  ;; each k rows of 8 floats; columns past n are zero.
  (func (export "pack_b") (param $src i32) (param $rs i32) (param $k i32) (param $n i32) (param $dst i32)
    (local $j0 i32) (local $q i32) (local $c i32) (local $p i32) (local $width i32)
    (block $done (loop $panels
      (br_if $done (i32.ge_u (local.get $j0) (local.get $n)))
      (local.set $width (i32.sub (local.get $n) (local.get $j0)))
      (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j0) (i32.const 2))))
      (local.set $q (i32.const 0))
      (if (i32.ge_u (local.get $width) (i32.const 8))
        (then
          (loop $ks
            (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $p)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $p)))
            (local.set $p (i32.add (local.get $p) (local.get $rs)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $ks (i32.lt_u (local.get $q) (local.get $k)))))
        (else
          (loop $ks
            (local.set $c (i32.const 0))
            (loop $cols
              (i32.store (local.get $dst)
                (if (result i32) (i32.lt_u (local.get $c) (local.get $width))
                  (then (i32.load (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 2)))))
                  (else (i32.const 0))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br_if $cols (i32.lt_u (local.get $c) (i32.const 8))))
            (local.set $p (i32.add (local.get $p) (local.get $rs)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $ks (i32.lt_u (local.get $q) (local.get $k))))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
      (br $panels)))
  )

  ;; Rewrites every NaN in [ptr, ptr + 4 * count) (count a multiple of 4) as the canonical NaN 0x7fc00000:
  ;; WebAssembly arithmetic may produce any NaN payload.
  (func (export "canonicalize_nans") (param $ptr i32) (param $count i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $vecs
      (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
      (local.set $v (v128.load (local.get $ptr)))
      (v128.store (local.get $ptr)
        (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $v)
                        (f32x4.ne (local.get $v) (local.get $v))))
      (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
      (br $vecs)))
  )
)
