using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Grains;

namespace PowerService.Api.Security;

public static class TokenEndpoints
{
    /// <summary><c>POST /api/auth/token</c>: a local user's name and password for an ASP.NET Core bearer token that
    /// carries the user's role and, for crews and customers, the id the token is bound to.</summary>
    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/auth/token", (TokenRequest? request, AuthOptions options) =>
            {
                if (string.IsNullOrWhiteSpace(request?.Username))
                {
                    throw new InvalidFieldException("username", "username is required.");
                }
                if (string.IsNullOrEmpty(request.Password))
                {
                    throw new InvalidFieldException("password", "password is required.");
                }
                var user = options.Users.FirstOrDefault(u => string.Equals(u.Name, request.Username, StringComparison.OrdinalIgnoreCase));
                // The same answer, after the same work, for an unknown user and a wrong password, so names cannot be probed.
                var verified = PasswordHash.Verify(request.Password, user?.PasswordHash ?? PasswordHash.NoUser);
                if (user is null || !verified)
                {
                    return Results.Problem(title: "Invalid credentials", detail: "The user name or password is wrong.", statusCode: StatusCodes.Status401Unauthorized);
                }
                List<Claim> claims = [new(ClaimTypes.Name, user.Name), new(ClaimTypes.Role, user.Role)];
                if (user.CrewId is not null)
                {
                    claims.Add(new Claim(Roles.CrewIdClaim, user.CrewId));
                }
                if (user.CustomerId is not null)
                {
                    claims.Add(new Claim(Roles.CustomerIdClaim, user.CustomerId));
                }
                var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, BearerTokenDefaults.AuthenticationScheme));
                return Results.SignIn(principal, authenticationScheme: BearerTokenDefaults.AuthenticationScheme);
            })
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .WithName("CreateToken");

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
