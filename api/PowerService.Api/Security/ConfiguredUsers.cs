using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PowerService.Api.Security;

/// <summary>The configured local users, and what a token says about its holder checked against them. A token carries a
/// stamp of the user's entry as it was when signed in (role, crew, customer, password hash): once the entry changes —
/// a dispatcher demoted, a crew account moved to another crew, a password changed, the user removed — the silo
/// started on the new configuration refuses the tokens issued before it with a 401, instead of trusting them for the
/// rest of their lifetime.</summary>
public sealed class ConfiguredUsers(AuthOptions options)
{
    public const string StampClaim = "user_stamp";

    private readonly Dictionary<string, (LocalUser User, string Stamp)> _users = options.Users.ToDictionary(
        u => u.Name, u => (u, Stamp(u)), StringComparer.OrdinalIgnoreCase);

    public LocalUser? Find(string? name) => name is not null && _users.TryGetValue(name, out var entry) ? entry.User : null;

    /// <summary>The sign-in session a token belongs to, and how many times its refresh token was renewed
    /// (<see cref="PowerService.Grains.Accounts.IRefreshSessionsGrain"/>).</summary>
    public const string SessionClaim = "session";
    public const string GenerationClaim = "session_generation";

    /// <summary>The principal a token is issued for: name, role, the crew or customer bound, the entry's stamp, and the
    /// sign-in <paramref name="session"/> with the <paramref name="generation"/> of its refresh token.</summary>
    public ClaimsPrincipal PrincipalOf(LocalUser user, string session, int generation)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.Name, user.Name), new(ClaimTypes.Role, user.Role), new(StampClaim, _users[user.Name].Stamp),
            new(SessionClaim, session), new(GenerationClaim, generation.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
        if (user.CrewId is not null)
        {
            claims.Add(new Claim(Roles.CrewIdClaim, user.CrewId));
        }
        if (user.CustomerId is not null)
        {
            claims.Add(new Claim(Roles.CustomerIdClaim, user.CustomerId));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, BearerTokenDefaults.AuthenticationScheme));
    }

    /// <summary>The configured user a token's principal was issued for, if that entry is still as it was then.</summary>
    public LocalUser? Current(ClaimsPrincipal principal) =>
        _users.TryGetValue(principal.Identity?.Name ?? "", out var entry)
        // A plain comparison: the stamp travels inside the protected token, so no one can probe it by timing.
        && string.Equals(principal.FindFirst(StampClaim)?.Value, entry.Stamp, StringComparison.Ordinal)
            ? entry.User
            : null;

    private static string Stamp(LocalUser user) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(
        string.Join('\n', user.Name.ToUpperInvariant(), user.Role, user.CrewId ?? "", user.CustomerId ?? "", user.PasswordHash)))[..16]);
}

/// <summary>Reads the bearer token of every request and hub connection, in place of the handler's own reading: from
/// the Authorization header (its scheme case-insensitive, RFC 9110), or for hubs from the query string (browsers cannot
/// set headers on a WebSocket). A token that is expired, not ours, whose user entry changed or went away since it
/// was issued, or whose sign-in ended (<see cref="EndedSignIns"/>) fails authentication: the caller gets the 401 of an
/// expired token.</summary>
internal static class BearerTokenReader
{
    public static async Task OnMessageReceived(MessageReceivedContext context)
    {
        var request = context.Request;
        string? token = null;
        if (request.Headers.Authorization is [{ } header] && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (request.Path.StartsWithSegments("/hubs") && request.Query["access_token"] is [{ Length: > 0 } query])
        {
            token = query;
        }
        if (string.IsNullOrEmpty(token))
        {
            return; // no token: the handler finds none either, and the endpoint's policy decides
        }
        var ticket = context.Options.BearerTokenProtector.Unprotect(token);
        var now = (context.Options.TimeProvider ?? TimeProvider.System).GetUtcNow();
        if (ticket is not { Properties.ExpiresUtc: { } expires } || now >= expires)
        {
            context.Fail("The token is not valid or has expired.");
        }
        else if (context.HttpContext.RequestServices.GetRequiredService<ConfiguredUsers>().Current(ticket.Principal) is null)
        {
            context.Fail("The token's user has changed or been removed; sign in again.");
        }
        else if (await context.HttpContext.RequestServices.GetRequiredService<EndedSignIns>().IsEndedAsync(ticket.Principal))
        {
            context.Fail("The token's sign-in has ended (signed out, or its refresh token used by someone else); sign in again.");
        }
        else
        {
            context.Principal = ticket.Principal;
            context.Properties = ticket.Properties;
            context.Success();
        }
    }
}
