from hall_ops.models.alerts import Alert, AlertRules, AlertSequence, AlertTransition

__all__ = ["Alert", "AlertRules", "AlertSequence", "AlertTransition"]
