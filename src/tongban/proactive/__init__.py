"""Proactive services (主动服务): policies whose eligibility is a set of FEEL conditions over shared
data, matching runs that list who qualifies and why, notices to those who do, and 免申即享 —
benefits granted without an application where the data decides — which the beneficiary sees and
may contest before staff.

Data comes only through the exchange, under the policy department's grants, each batch a logged
call (exchange.services.extract); the rule language (tongban.rules) decides, and matching many
subjects at once uses proactive.vector, which agrees with it row by row.
"""
