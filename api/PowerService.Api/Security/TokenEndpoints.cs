using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using PowerService.Grains;

namespace PowerService.Api.Security;

public static class TokenEndpoints
{
    /// <summary><c>POST /api/auth/token</c>: a local user's name and password for an ASP.NET Core bearer token that
    /// carries the user's role and, for crews and customers, the id the token is bound to.</summary>
    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/auth/token", (TokenRequest? request, ConfiguredUsers users) =>
            {
                if (string.IsNullOrWhiteSpace(request?.Username))
                {
                    throw new InvalidFieldException("username", "username is required.");
                }
                if (string.IsNullOrEmpty(request.Password))
                {
                    throw new InvalidFieldException("password", "password is required.");
                }
                var user = users.Find(request.Username);
                // The same answer, after the same work, for an unknown user and a wrong password, so names cannot be probed.
                var verified = PasswordHash.Verify(request.Password, user?.PasswordHash ?? PasswordHash.NoUser);
                if (user is null || !verified)
                {
                    return Results.Problem(title: "Invalid credentials", detail: "The user name or password is wrong.", statusCode: StatusCodes.Status401Unauthorized);
                }
                return Results.SignIn(users.PrincipalOf(user), authenticationScheme: BearerTokenDefaults.AuthenticationScheme);
            })
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .WithName("CreateToken");

        // A new token for the refresh token that came with the last one (a PDA through a long shift, the customer app),
        // issued for the user's entry as it is now; refused once it expired or the entry changed.
        routes.MapPost("/api/auth/refresh", (RefreshRequest? request, ConfiguredUsers users, IOptionsMonitor<BearerTokenOptions> bearer) =>
            {
                if (string.IsNullOrWhiteSpace(request?.RefreshToken))
                {
                    throw new InvalidFieldException("refreshToken", "refreshToken is required.");
                }
                var options = bearer.Get(BearerTokenDefaults.AuthenticationScheme);
                var ticket = options.RefreshTokenProtector.Unprotect(request.RefreshToken);
                var now = (options.TimeProvider ?? TimeProvider.System).GetUtcNow();
                var user = ticket is { Properties.ExpiresUtc: { } expires } && now < expires ? users.Current(ticket.Principal) : null;
                return user is null
                    ? Results.Problem(title: "Invalid refresh token", detail: "The refresh token is not valid, has expired, or its user changed; sign in again.", statusCode: StatusCodes.Status401Unauthorized)
                    : Results.SignIn(users.PrincipalOf(user), authenticationScheme: BearerTokenDefaults.AuthenticationScheme);
            })
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .WithName("RefreshToken");

        // Who the token belongs to, so a page knows which crew or customer it serves.
        routes.MapGet("/api/auth/me", (ClaimsPrincipal user) =>
            {
                var caller = Caller.From(user);
                return Results.Ok(new { caller.Name, caller.Role, caller.CrewId, caller.CustomerId });
            })
            .RequireAuthorization(Roles.AnyAccount)
            .WithName("GetCurrentUser");
        return routes;
    }
}

public sealed record TokenRequest(string? Username, string? Password);

public sealed record RefreshRequest(string? RefreshToken);
