package dev.pcwmesh.runtime.context;

/**
 * What a plan cost.
 *
 * @param windows        window segments placed
 * @param tokensEncoded  tokens the strategy ran through the model to build the plan (scoring passes included)
 * @param encodeScores   q·k scores those runs computed
 * @param kvBytes        bytes of keys and values the placed segments hold
 * @param tokensAttended context tokens one head of a new token attends to at most (besides the new tokens)
 * @param answerScores   q·k scores the new tokens have computed under the plan so far
 */
public record PlanCost(int windows, long tokensEncoded, long encodeScores, long kvBytes, long tokensAttended, long answerScores) {

    public long scoresComputed() { return encodeScores + answerScores; }
}
