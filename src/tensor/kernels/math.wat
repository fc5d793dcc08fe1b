;; math.wat: exp, log, tanh, sigmoid, gelu and gelu_grad (math.ts geluGrad) on f32x4 lanes, bit-identical to src/tensor/math.ts.
;;
;; Each function below is the scalar program of math.ts with every float32 operation in the same order,
;; four lanes at a time: f32x4.add/sub/mul/div are IEEE binary32 per lane (no FMA, no relaxed SIMD), so
;; each lane rounds exactly as the scalar code's f32(). The scalar code's ternaries become compare masks
;; and v128.bitselect (a compare with NaN is false in both, so NaN takes the same branch); its int32
;; tricks become i32x4 ops; `n | 0` of an integral float becomes i32x4.trunc_sat_f32x4_s and an int
;; used as a float becomes f32x4.convert_i32x4_s (both exact at these magnitudes). f32x4.min/max are not
;; used: their NaN and -0 rules differ from the scalar selects. Pairs (hi, lo) travel as multi-value
;; results where math.ts leaves the low part in a module variable.
;;
;; math.ts's small helpers (TwoSum, Fast2Sum, TwoProduct, pow2, scaleByPow2) are written out in place,
;; each marked by a comment: V8 in Node 20 does not inline wasm calls by default, and a call per helper
;; cost almost half the time (exp 108 Melem/s as calls, 187 written out, Node 20.20, 1 core of an AMD EPYC VM).
;; expCore, divPair and sigmoid stay functions, called once per vector: inlining them too (V8's
;; --experimental-wasm-inlining) gains under 10%.
;;
;; The exported functions run over [ptr, end) in place, 4 lanes per step; JS pads the last vector, so
;; end - ptr is a positive multiple of 16 bytes. Every NaN written is the canonical 0x7fc00000:
;; WebAssembly arithmetic may produce any NaN bits, and the scalar path canonicalises on store too.
;; The memory is the module's own: one 64 KiB page holds a 16384-element block (wasm-math.ts).
(module
  (memory (export "memory") 1)

  ;; ---- divPair: (n_hi + n_lo) / (d_hi + d_lo), returns q and its correction ------------------------

  (func $div_pair (param $n_hi v128) (param $n_lo v128) (param $d_hi v128) (param $d_lo v128) (result v128 v128)
    (local $q v128) (local $qd v128) (local $scaled v128)
    (local $a_hi v128) (local $a_lo v128) (local $b_hi v128) (local $b_lo v128)
    (local.set $q (f32x4.div (local.get $n_hi) (local.get $d_hi)))
    ;; TwoProduct(q, d_hi): qd and its error (the last expression)
    (local.set $qd (f32x4.mul (local.get $q) (local.get $d_hi)))
    (local.set $scaled (f32x4.mul (v128.const f32x4 4097 4097 4097 4097) (local.get $q)))
    (local.set $a_hi (f32x4.sub (local.get $scaled) (f32x4.sub (local.get $scaled) (local.get $q))))
    (local.set $a_lo (f32x4.sub (local.get $q) (local.get $a_hi)))
    (local.set $scaled (f32x4.mul (v128.const f32x4 4097 4097 4097 4097) (local.get $d_hi)))
    (local.set $b_hi (f32x4.sub (local.get $scaled) (f32x4.sub (local.get $scaled) (local.get $d_hi))))
    (local.set $b_lo (f32x4.sub (local.get $d_hi) (local.get $b_hi)))
    (local.get $q)
    (f32x4.div
      (f32x4.sub
        (f32x4.add
          (f32x4.sub
            (f32x4.sub (local.get $n_hi) (local.get $qd))
            ;; the TwoProduct error
            (f32x4.add
              (f32x4.add
                (f32x4.add
                  (f32x4.sub (f32x4.mul (local.get $a_hi) (local.get $b_hi)) (local.get $qd))
                  (f32x4.mul (local.get $a_hi) (local.get $b_lo)))
                (f32x4.mul (local.get $a_lo) (local.get $b_hi)))
              (f32x4.mul (local.get $a_lo) (local.get $b_lo))))
          (local.get $n_lo))
        (f32x4.mul (local.get $q) (local.get $d_lo)))
      (local.get $d_hi)))

  ;; ---- exp ----------------------------------------------------------------------------------------

  ;; math.ts expCore: e^x = (hi + lo) * 2^n for x in [-104, 89]; returns hi, lo and n (i32 lanes).
  (func $exp_core (param $x v128) (result v128 v128 v128)
    (local $n_float v128) (local $s v128) (local $b v128) (local $t v128) (local $rh v128) (local $rl v128)
    (local $tail v128) (local $head v128) (local $hi v128)
    (local.set $n_float
      (f32x4.sub
        (f32x4.add (f32x4.mul (local.get $x) (v128.const i32x4 0x3fb8aa3b 0x3fb8aa3b 0x3fb8aa3b 0x3fb8aa3b)) (v128.const f32x4 12582912 12582912 12582912 12582912))
        (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $s (f32x4.sub (local.get $x) (f32x4.mul (local.get $n_float) (v128.const i32x4 0x3f317200 0x3f317200 0x3f317200 0x3f317200))))
    (local.set $b (f32x4.neg (f32x4.mul (local.get $n_float) (v128.const i32x4 0x35bfbe8e 0x35bfbe8e 0x35bfbe8e 0x35bfbe8e))))
    ;; TwoSum(s, b) -> rh, rl
    (local.set $rh (f32x4.add (local.get $s) (local.get $b)))
    (local.set $t (f32x4.sub (local.get $rh) (local.get $s)))
    (local.set $rl
      (f32x4.add
        (f32x4.sub (local.get $s) (f32x4.sub (local.get $rh) (local.get $t)))
        (f32x4.sub (local.get $b) (local.get $t))))
    (local.set $tail
      (f32x4.add
        (f32x4.mul
          (f32x4.mul (local.get $rh) (local.get $rh))
          (f32x4.add (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.mul (local.get $rh)
            (f32x4.add (v128.const i32x4 0x3e2aaaab 0x3e2aaaab 0x3e2aaaab 0x3e2aaaab) (f32x4.mul (local.get $rh)
            (f32x4.add (v128.const i32x4 0x3d2aaaab 0x3d2aaaab 0x3d2aaaab 0x3d2aaaab) (f32x4.mul (local.get $rh)
            (f32x4.add (v128.const i32x4 0x3c088889 0x3c088889 0x3c088889 0x3c088889) (f32x4.mul (local.get $rh)
            (f32x4.add (v128.const i32x4 0x3ab60b61 0x3ab60b61 0x3ab60b61 0x3ab60b61) (f32x4.mul (local.get $rh)
            (f32x4.add (v128.const i32x4 0x39500d01 0x39500d01 0x39500d01 0x39500d01) (f32x4.mul (local.get $rh) (v128.const i32x4 0x37d00d01 0x37d00d01 0x37d00d01 0x37d00d01))))))))))))))
        (f32x4.add (local.get $rl) (f32x4.mul (local.get $rl) (local.get $rh)))))
    ;; Fast2Sum(1, rh) -> head, t
    (local.set $head (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $rh)))
    (local.set $t (f32x4.sub (local.get $rh) (f32x4.sub (local.get $head) (v128.const f32x4 1 1 1 1))))
    ;; Fast2Sum(head, t + tail) -> hi, lo
    (local.set $b (f32x4.add (local.get $t) (local.get $tail)))
    (local.set $hi (f32x4.add (local.get $head) (local.get $b)))
    (local.get $hi)
    (f32x4.sub (local.get $b) (f32x4.sub (local.get $hi) (local.get $head)))
    (i32x4.trunc_sat_f32x4_s (local.get $n_float)))

  ;; math.ts exp: the argument clamped to [-104, 89] (NaN to -104), the pair rounded once, then scaled.
  (func (export "exp") (param $ptr i32) (param $end i32)
    (local $x v128) (local $hi v128) (local $lo v128) (local $n v128) (local $half v128) (local $y v128)
    (loop $vector
      (local.set $x (v128.load (local.get $ptr)))
      (call $exp_core
        (v128.bitselect
          (v128.const i32x4 0x42b20000 0x42b20000 0x42b20000 0x42b20000)
          (v128.bitselect (local.get $x) (v128.const i32x4 0xc2d00000 0xc2d00000 0xc2d00000 0xc2d00000) (f32x4.ge (local.get $x) (v128.const i32x4 0xc2d00000 0xc2d00000 0xc2d00000 0xc2d00000)))
          (f32x4.gt (local.get $x) (v128.const i32x4 0x42b20000 0x42b20000 0x42b20000 0x42b20000))))
      (local.set $n)
      (local.set $lo)
      (local.set $hi)
      ;; scaleByPow2(hi + lo, n): times pow2(n >> 1), then times pow2(n - (n >> 1))
      (local.set $half (i32x4.shr_s (local.get $n) (i32.const 1)))
      (local.set $y
        (f32x4.mul
          (f32x4.mul
            (f32x4.add (local.get $hi) (local.get $lo))
            (i32x4.shl (i32x4.add (local.get $half) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
          (i32x4.shl (i32x4.add (i32x4.sub (local.get $n) (local.get $half)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
      ;; x NaN gives NaN, written canonical
      (v128.store (local.get $ptr)
        (v128.bitselect
          (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
          (local.get $y)
          (v128.or (f32x4.ne (local.get $x) (local.get $x)) (f32x4.ne (local.get $y) (local.get $y)))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))

  ;; ---- log ----------------------------------------------------------------------------------------

  ;; math.ts log: x = 2^k * m, m in [sqrt(1/2), sqrt(2)), subnormals scaled by 2^23 first.
  (func (export "log") (param $ptr i32) (param $end i32)
    (local $x v128) (local $subnormal v128) (local $bits v128) (local $mantissa v128) (local $halve v128)
    (local $k v128) (local $f v128) (local $s v128) (local $z v128) (local $r v128)
    (local $f_squared v128) (local $f_squared_lo v128) (local $scaled v128) (local $f_hi v128) (local $f_lo v128)
    (local $half_square v128) (local $a v128) (local $b v128) (local $t v128)
    (local $sum1 v128) (local $sum1_lo v128) (local $sum2 v128) (local $sum2_lo v128) (local $y v128)
    (loop $vector
      (local.set $x (v128.load (local.get $ptr)))
      (local.set $subnormal (f32x4.lt (local.get $x) (v128.const i32x4 0x00800000 0x00800000 0x00800000 0x00800000)))
      (local.set $bits
        (v128.bitselect (f32x4.mul (local.get $x) (v128.const f32x4 8388608 8388608 8388608 8388608)) (local.get $x) (local.get $subnormal)))
      (local.set $mantissa (v128.and (local.get $bits) (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff)))
      ;; all ones where the mantissa is above sqrt(2)'s: subtracting it adds halve = 1
      (local.set $halve (i32x4.gt_s (local.get $mantissa) (v128.const i32x4 0x3504f3 0x3504f3 0x3504f3 0x3504f3)))
      (local.set $k
        (i32x4.sub
          (i32x4.sub
            (i32x4.sub (i32x4.shr_s (local.get $bits) (i32.const 23)) (v128.const i32x4 127 127 127 127))
            (local.get $halve))
          (v128.and (local.get $subnormal) (v128.const i32x4 23 23 23 23))))
      (local.set $f
        (f32x4.sub
          (v128.or
            (local.get $mantissa)
            (i32x4.shl (i32x4.add (v128.const i32x4 127 127 127 127) (local.get $halve)) (i32.const 23)))
          (v128.const f32x4 1 1 1 1)))
      (local.set $s (f32x4.div (local.get $f) (f32x4.add (v128.const f32x4 2 2 2 2) (local.get $f))))
      (local.set $z (f32x4.mul (local.get $s) (local.get $s)))
      (local.set $r
        (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3f2aaaab 0x3f2aaaab 0x3f2aaaab 0x3f2aaaab) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3ecccccd 0x3ecccccd 0x3ecccccd 0x3ecccccd) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3e924925 0x3e924925 0x3e924925 0x3e924925) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3e638e39 0x3e638e39 0x3e638e39 0x3e638e39) (f32x4.mul (local.get $z) (v128.const i32x4 0x3e3a2e8c 0x3e3a2e8c 0x3e3a2e8c 0x3e3a2e8c)))))))))))
      ;; TwoProduct(f, f) -> f_squared, f_squared_lo
      (local.set $f_squared (f32x4.mul (local.get $f) (local.get $f)))
      (local.set $scaled (f32x4.mul (v128.const f32x4 4097 4097 4097 4097) (local.get $f)))
      (local.set $f_hi (f32x4.sub (local.get $scaled) (f32x4.sub (local.get $scaled) (local.get $f))))
      (local.set $f_lo (f32x4.sub (local.get $f) (local.get $f_hi)))
      (local.set $f_squared_lo
        (f32x4.add
          (f32x4.add
            (f32x4.add
              (f32x4.sub (f32x4.mul (local.get $f_hi) (local.get $f_hi)) (local.get $f_squared))
              (f32x4.mul (local.get $f_hi) (local.get $f_lo)))
            (f32x4.mul (local.get $f_lo) (local.get $f_hi)))
          (f32x4.mul (local.get $f_lo) (local.get $f_lo))))
      (local.set $half_square (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $f_squared)))
      (local.set $k (f32x4.convert_i32x4_s (local.get $k)))
      ;; TwoSum(k * LN2_HI, f) -> sum1, sum1_lo
      (local.set $a (f32x4.mul (local.get $k) (v128.const i32x4 0x3f317200 0x3f317200 0x3f317200 0x3f317200)))
      (local.set $sum1 (f32x4.add (local.get $a) (local.get $f)))
      (local.set $t (f32x4.sub (local.get $sum1) (local.get $a)))
      (local.set $sum1_lo
        (f32x4.add
          (f32x4.sub (local.get $a) (f32x4.sub (local.get $sum1) (local.get $t)))
          (f32x4.sub (local.get $f) (local.get $t))))
      ;; TwoSum(sum1, -half_square) -> sum2, sum2_lo
      (local.set $b (f32x4.neg (local.get $half_square)))
      (local.set $sum2 (f32x4.add (local.get $sum1) (local.get $b)))
      (local.set $t (f32x4.sub (local.get $sum2) (local.get $sum1)))
      (local.set $sum2_lo
        (f32x4.add
          (f32x4.sub (local.get $sum1) (f32x4.sub (local.get $sum2) (local.get $t)))
          (f32x4.sub (local.get $b) (local.get $t))))
      (local.set $y
        (f32x4.add
          (local.get $sum2)
          (f32x4.add
            (f32x4.add
              (f32x4.sub
                (f32x4.add (local.get $sum1_lo) (local.get $sum2_lo))
                (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $f_squared_lo)))
              (f32x4.mul (local.get $s) (f32x4.add (local.get $half_square) (local.get $r))))
            (f32x4.mul (local.get $k) (v128.const i32x4 0x35bfbe8e 0x35bfbe8e 0x35bfbe8e 0x35bfbe8e)))))
      ;; x > 0 ? (x < Inf ? y : x) : x == 0 ? -Inf : NaN
      (local.set $y
        (v128.bitselect
          (v128.bitselect (local.get $y) (local.get $x) (f32x4.lt (local.get $x) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))
          (v128.bitselect (v128.const i32x4 0xff800000 0xff800000 0xff800000 0xff800000) (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (f32x4.eq (local.get $x) (v128.const f32x4 0 0 0 0)))
          (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0))))
      (v128.store (local.get $ptr)
        (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $y) (f32x4.ne (local.get $y) (local.get $y))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))

  ;; ---- tanh ---------------------------------------------------------------------------------------

  ;; math.ts tanh: on a = |x|, the odd series below 0.3, else 1 - 2E/(1 + E) with E = e^{-2a} as a pair.
  (func (export "tanh") (param $ptr i32) (param $end i32)
    (local $x v128) (local $a v128) (local $z v128) (local $small v128) (local $hi v128) (local $lo v128)
    (local $n v128) (local $scale v128) (local $e_hi v128) (local $e_lo v128) (local $denom_hi v128)
    (local $q_hi v128) (local $q_lo v128) (local $one_minus_q v128) (local $y v128)
    (loop $vector
      (local.set $x (v128.load (local.get $ptr)))
      (local.set $a (v128.and (local.get $x) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
      (local.set $z (f32x4.mul (local.get $a) (local.get $a)))
      (local.set $small
        (f32x4.add (local.get $a) (f32x4.mul (local.get $a) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0xbeaaaaab 0xbeaaaaab 0xbeaaaaab 0xbeaaaaab) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3e088889 0x3e088889 0x3e088889 0x3e088889) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0xbd5d0dd1 0xbd5d0dd1 0xbd5d0dd1 0xbd5d0dd1) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0x3cb327a4 0x3cb327a4 0x3cb327a4 0x3cb327a4) (f32x4.mul (local.get $z)
        (f32x4.add (v128.const i32x4 0xbc11371b 0xbc11371b 0xbc11371b 0xbc11371b) (f32x4.mul (local.get $z) (v128.const i32x4 0x3b6b69e8 0x3b6b69e8 0x3b6b69e8 0x3b6b69e8)))))))))))))))
      ;; the argument clamped to 20 (NaN too; the last select returns NaN)
      (call $exp_core
        (f32x4.mul
          (v128.const f32x4 -2 -2 -2 -2)
          (v128.bitselect (local.get $a) (v128.const i32x4 0x41a00000 0x41a00000 0x41a00000 0x41a00000) (f32x4.lt (local.get $a) (v128.const i32x4 0x41a00000 0x41a00000 0x41a00000 0x41a00000)))))
      (local.set $n)
      (local.set $lo)
      (local.set $hi)
      ;; pow2(n): n in [-58, -1]
      (local.set $scale (i32x4.shl (i32x4.add (local.get $n) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (local.set $e_hi (f32x4.mul (local.get $hi) (local.get $scale)))
      (local.set $e_lo (f32x4.mul (local.get $lo) (local.get $scale)))
      ;; Fast2Sum(1, e_hi) -> denom_hi, and denom_lo in div_pair's last argument
      (local.set $denom_hi (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e_hi)))
      (call $div_pair
        (f32x4.mul (v128.const f32x4 2 2 2 2) (local.get $e_hi))
        (f32x4.mul (v128.const f32x4 2 2 2 2) (local.get $e_lo))
        (local.get $denom_hi)
        (f32x4.add
          (f32x4.sub (local.get $e_hi) (f32x4.sub (local.get $denom_hi) (v128.const f32x4 1 1 1 1)))
          (local.get $e_lo)))
      (local.set $q_lo)
      (local.set $q_hi)
      ;; Fast2Sum(1, -q_hi) -> one_minus_q and its error; large = one_minus_q + (error - q_lo)
      (local.set $one_minus_q (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.neg (local.get $q_hi))))
      (local.set $y
        (v128.bitselect
          (local.get $small)
          (f32x4.add
            (local.get $one_minus_q)
            (f32x4.sub
              (f32x4.sub (f32x4.neg (local.get $q_hi)) (f32x4.sub (local.get $one_minus_q) (v128.const f32x4 1 1 1 1)))
              (local.get $q_lo)))
          (f32x4.lt (local.get $a) (v128.const i32x4 0x3e99999a 0x3e99999a 0x3e99999a 0x3e99999a))))
      ;; the sign bit of x put back (tanh(-0) = -0); x NaN gives NaN, written canonical
      (v128.store (local.get $ptr)
        (v128.bitselect
          (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
          (v128.or (local.get $y) (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))
          (v128.or (f32x4.ne (local.get $x) (local.get $x)) (f32x4.ne (local.get $y) (local.get $y)))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))

  ;; ---- sigmoid ------------------------------------------------------------------------------------

  ;; math.ts sigmoid: E = e^{-|x|} as a pair; 1 / (1 + E) for x >= 0, E / (1 + E) scaled for x < 0.
  ;; NaN lanes come out NaN (not yet canonical).
  (func $sigmoid (param $x v128) (result v128)
    (local $neg_abs v128) (local $hi v128) (local $lo v128) (local $n v128) (local $half v128)
    (local $scale_half v128) (local $scale_rest v128) (local $e_hi v128) (local $denom_hi v128)
    (local $negative v128) (local $q_hi v128) (local $q_lo v128) (local $q v128)
    (local.set $negative (f32x4.lt (local.get $x) (v128.const f32x4 0 0 0 0)))
    (local.set $neg_abs (v128.bitselect (local.get $x) (f32x4.neg (local.get $x)) (local.get $negative)))
    (call $exp_core
      (v128.bitselect
        (local.get $neg_abs)
        (v128.const i32x4 0xc2d00000 0xc2d00000 0xc2d00000 0xc2d00000)
        (f32x4.ge (local.get $neg_abs) (v128.const i32x4 0xc2d00000 0xc2d00000 0xc2d00000 0xc2d00000))))
    (local.set $n)
    (local.set $lo)
    (local.set $hi)
    ;; pow2(n >> 1) and pow2(n - (n >> 1))
    (local.set $half (i32x4.shr_s (local.get $n) (i32.const 1)))
    (local.set $scale_half (i32x4.shl (i32x4.add (local.get $half) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
    (local.set $scale_rest
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $n) (local.get $half)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
    (local.set $e_hi
      (f32x4.mul (f32x4.mul (local.get $hi) (local.get $scale_half)) (local.get $scale_rest)))
    ;; Fast2Sum(1, e_hi) -> denom_hi, and denom_lo (+ e_lo) in div_pair's last argument
    (local.set $denom_hi (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e_hi)))
    (call $div_pair
      (v128.bitselect (local.get $hi) (v128.const f32x4 1 1 1 1) (local.get $negative))
      (v128.and (local.get $lo) (local.get $negative))
      (local.get $denom_hi)
      (f32x4.add
        (f32x4.sub (local.get $e_hi) (f32x4.sub (local.get $denom_hi) (v128.const f32x4 1 1 1 1)))
        (f32x4.mul (f32x4.mul (local.get $lo) (local.get $scale_half)) (local.get $scale_rest))))
    (local.set $q_lo)
    (local.set $q_hi)
    (local.set $q (f32x4.add (local.get $q_hi) (local.get $q_lo)))
    (v128.bitselect
      (local.get $x)
      (v128.bitselect
        ;; scaleByPow2(q, n), with the same two powers of two
        (f32x4.mul (f32x4.mul (local.get $q) (local.get $scale_half)) (local.get $scale_rest))
        (local.get $q)
        (local.get $negative))
      (f32x4.ne (local.get $x) (local.get $x))))

  (func (export "sigmoid") (param $ptr i32) (param $end i32)
    (local $y v128)
    (loop $vector
      (local.set $y (call $sigmoid (v128.load (local.get $ptr))))
      (v128.store (local.get $ptr)
        (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $y) (f32x4.ne (local.get $y) (local.get $y))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))

  ;; ---- gelu ---------------------------------------------------------------------------------------

  ;; math.ts gelu: x * sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3); gelu(-Inf) = -0.
  (func (export "gelu") (param $ptr i32) (param $end i32)
    (local $x v128) (local $y v128)
    (loop $vector
      (local.set $x (v128.load (local.get $ptr)))
      (local.set $y
        (v128.bitselect
          (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)
          (f32x4.mul
            (local.get $x)
            (call $sigmoid
              (f32x4.mul
                (v128.const f32x4 2 2 2 2)
                (f32x4.mul
                  (v128.const i32x4 0x3f4c422a 0x3f4c422a 0x3f4c422a 0x3f4c422a)
                  (f32x4.add
                    (local.get $x)
                    (f32x4.mul
                      (v128.const i32x4 0x3d372713 0x3d372713 0x3d372713 0x3d372713)
                      (f32x4.mul (f32x4.mul (local.get $x) (local.get $x)) (local.get $x))))))))
          (f32x4.eq (local.get $x) (v128.const i32x4 0xff800000 0xff800000 0xff800000 0xff800000))))
      (v128.store (local.get $ptr)
        (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $y) (f32x4.ne (local.get $y) (local.get $y))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))
;; ---- gelu_grad ----------------------------------------------------------------------------------

  ;; math.ts geluGrad: s + (x * (2c * (1 + 3a * x2))) * (s * (1 - s)), s = sigmoid(2u) computed as in gelu;
  ;; the product is +0 where s * (1 - s) is not > 0 (s = 0 or 1, ±Inf inputs: no Inf * 0).
  (func (export "gelu_grad") (param $ptr i32) (param $end i32)
    (local $x v128) (local $x2 v128) (local $s v128) (local $ds v128) (local $y v128)
    (loop $vector
      (local.set $x (v128.load (local.get $ptr)))
      (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
      (local.set $s
        (call $sigmoid
          (f32x4.mul
            (v128.const f32x4 2 2 2 2)
            (f32x4.mul
              (v128.const i32x4 0x3f4c422a 0x3f4c422a 0x3f4c422a 0x3f4c422a)
              (f32x4.add
                (local.get $x)
                (f32x4.mul
                  (v128.const i32x4 0x3d372713 0x3d372713 0x3d372713 0x3d372713)
                  (f32x4.mul (local.get $x2) (local.get $x))))))))
      (local.set $ds (f32x4.mul (local.get $s) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $s))))
      (local.set $y
        (f32x4.add
          (local.get $s)
          (v128.and
            (f32x4.mul
              (f32x4.mul
                (local.get $x)
                (f32x4.mul
                  (v128.const i32x4 0x3fcc422a 0x3fcc422a 0x3fcc422a 0x3fcc422a)
                  (f32x4.add
                    (v128.const f32x4 1 1 1 1)
                    (f32x4.mul (v128.const i32x4 0x3e095d4e 0x3e095d4e 0x3e095d4e 0x3e095d4e) (local.get $x2)))))
              (local.get $ds))
            (f32x4.gt (local.get $ds) (v128.const f32x4 0 0 0 0)))))
      (v128.store (local.get $ptr)
        (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $y) (f32x4.ne (local.get $y) (local.get $y))))
      (br_if $vector (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))))
)
