using System.Security.Claims;

namespace PowerService.Api.Security;

/// <summary>The token holder of a request, as endpoints need it: role, the crew or customer it is bound to, and the
/// actor name written into journaled events (<c>role:name</c>).</summary>
internal sealed record Caller(string Name, string Role, string? CrewId, string? CustomerId)
{
    public string Actor => $"{Role}:{Name}";

    public bool IsDispatcher => Role == Roles.Dispatcher;

    public bool IsOperator => Role == Roles.Operator;

    public static Caller From(ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "unknown",
        user.FindFirstValue(ClaimTypes.Role) ?? "",
        user.FindFirstValue(Roles.CrewIdClaim),
        user.FindFirstValue(Roles.CustomerIdClaim));
}
