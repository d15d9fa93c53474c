package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.LayerWeights;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.RopeLayout;
import dev.pcwmesh.runtime.kernel.WeightMatrix;

/**
 * A plain, scalar, double-precision forward pass of a Llama model over a whole sequence with
 * arbitrary position ids and an arbitrary attention mask: the textbook definition, written
 * independently of the runtime's kernels, plans and caches, to check them against.
 */
final class ScalarReference {

    /** Which earlier (or equal) rows row {@code i} may attend to. */
    @FunctionalInterface
    interface Mask {
        boolean visible(int query, int key);
    }

    private ScalarReference() {}

    /** Logits of the last row. */
    static double[] lastLogits(Model model, int[] tokens, int[] positions, Mask mask) {
        ModelConfig c = model.config();
        if (c.rope().layout() != RopeLayout.NORMAL) throw new IllegalArgumentException("the reference implements the NORMAL (llama) rotation only");
        int n = tokens.length, dim = c.dim(), hd = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads();
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) x[i] = row(model.weights().tokenEmbedding(), tokens[i]);
        for (LayerWeights lw : model.weights().layers()) {
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] h = rmsNorm(x[i], lw.attnNorm(), c.normEps());
                q[i] = rotate(matVec(lw.wq(), h), heads, hd, positions[i], c.rope().base(), c.rope().dims());
                k[i] = rotate(matVec(lw.wk(), h), kvHeads, hd, positions[i], c.rope().base(), c.rope().dims());
                v[i] = matVec(lw.wv(), h);
            }
            for (int i = 0; i < n; i++) {
                double[] att = new double[heads * hd];
                for (int h = 0; h < heads; h++) {
                    int kh = h / (heads / kvHeads);
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        if (!mask.visible(i, j)) continue;
                        double d = 0;
                        for (int e = 0; e < hd; e++) d += q[i][h * hd + e] * k[j][kh * hd + e];
                        s[j] = d / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) if (mask.visible(i, j)) sum += Math.exp(s[j] - max);
                    for (int j = 0; j < n; j++) {
                        if (!mask.visible(i, j)) continue;
                        double w = Math.exp(s[j] - max) / sum;
                        for (int e = 0; e < hd; e++) att[h * hd + e] += w * v[j][kh * hd + e];
                    }
                }
                double[] o = matVec(lw.wo(), att);
                for (int d = 0; d < dim; d++) x[i][d] += o[d];
            }
            for (int i = 0; i < n; i++) {
                double[] h = rmsNorm(x[i], lw.ffnNorm(), c.normEps());
                double[] g = matVec(lw.gate(), h), u = matVec(lw.up(), h);
                for (int f = 0; f < g.length; f++) g[f] = g[f] / (1 + Math.exp(-g[f])) * u[f];
                double[] down = matVec(lw.down(), g);
                for (int d = 0; d < dim; d++) x[i][d] += down[d];
            }
        }
        return matVec(model.weights().output(), rmsNorm(x[n - 1], model.weights().outputNorm(), c.normEps()));
    }

    private static double[] row(WeightMatrix m, int r) {
        float[] f = new float[m.cols()];
        m.row(r, f, 0);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double[] matVec(WeightMatrix m, double[] x) {
        double[] out = new double[m.rows()];
        for (int r = 0; r < m.rows(); r++) {
            double[] w = row(m, r);
            double s = 0;
            for (int i = 0; i < x.length; i++) s += w[i] * x[i];
            out[r] = s;
        }
        return out;
    }

    private static double[] rmsNorm(double[] x, float[] weight, float eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * inv * weight[i];
        return out;
    }

    /** The NORMAL layout: pair i of each head is (2i, 2i+1), angle position·base^(−2i/dims). */
    private static double[] rotate(double[] x, int heads, int hd, int position, double base, int dims) {
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < dims / 2; i++) {
                double angle = position * Math.pow(base, -2.0 * i / dims);
                int a = h * hd + 2 * i;
                double x0 = x[a], x1 = x[a + 1];
                x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                x[a + 1] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
            }
        }
        return x;
    }
}
