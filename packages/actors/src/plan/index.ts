export { analyzePlan, stepReferences, type PlanAnalysis, type PlanFacts, type PlanSpec, type PlanStepSpec } from './analyze';
export {
  backoffDelay, createPlanMachine, planOutcome, planStepActor, resolveStepParams, stepParamsProblem, stepStatuses,
  type PlanContext, type PlanMachine, type PlanMachineInput, type PlanPort, type PlanStepRequest, type PlanStepState,
} from './machine';
export { planStepInWorkflow } from './step-node';
export { branchedPlan, measurePlanOverhead } from './overhead';
