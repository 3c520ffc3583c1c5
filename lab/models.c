/* models.c: what every model shares (see models.h): the empty prediction, the dispatch to
 * an approach's own formulas (its row's predict, in approach_*.c), and the deviation the
 * report prints beside each pair.
 */
#include "models.h"

#include <math.h>

#include "approach.h"

void model_predict(const struct model_input *in, struct model_prediction *out)
{
    *out = (struct model_prediction){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (in->approach && in->approach->predict)
        in->approach->predict(in, out);
}

double model_deviation_pct(double measured, double model)
{
    if (isnan(measured) || isnan(model))
        return NAN;
    if (model == 0)
        return measured == 0 ? 0 : NAN;
    return (measured - model) / model * 100.0;
}
