"""Studies: measured quantities of the theory as xarray Datasets, one module per question.

* :mod:`~landscape.studies.ptq_failure` -- where RTN and second-order PTQ leave the basin;
* :mod:`~landscape.studies.ptq_valley` -- second-order PTQ on valleys (Hessian blindness);
* :mod:`~landscape.studies.recovery` -- STE recovery of PTQ-failed starts;
* :mod:`~landscape.studies.oscillation` -- the rivals of STE against chattering;
* :mod:`~landscape.studies.rtn_study`, :mod:`~landscape.studies.ptq_study`,
  :mod:`~landscape.studies.phase_study` -- the data of the reproduce figures;
* :mod:`~landscape.studies.dyadic_audit` -- the recovery certificate on exact binary inputs, judged exactly
  (figure 5's dyadic family, ``benchmarks/certify_orbit.py``);
* :mod:`~landscape.studies.figures_data` -- meshes and starts for the engine-only figures;
* :mod:`~landscape.studies.demo` -- the ``landscape demo`` run.
"""
