namespace PowerService.Grains;

/// <summary>Who acted, as the API names its callers ("{role}:{user}": <c>customer:wang</c>, <c>crew:crew-c12</c>), for
/// the rules that depend on it: a customer's own booking or cancel, a crew's own arrival.</summary>
public static class Actors
{
    public static bool IsCustomer(string actor) => actor.StartsWith("customer:", StringComparison.Ordinal);

    public static bool IsCrew(string actor) => actor.StartsWith("crew:", StringComparison.Ordinal);
}
