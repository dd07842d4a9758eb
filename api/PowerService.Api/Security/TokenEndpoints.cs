using System.Globalization;
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
    /// carries the user's role and, for crews and customers, the id the token is bound to. Limited per address
    /// (<see cref="ApiRateLimits.Public"/>), per user name and by password checks at once (<see cref="SignInThrottle"/>).</summary>
    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/auth/token", SignInAsync)
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .AddEndpointFilter(NoStore)
            .WithName("CreateToken").Produces<AccessTokenResponse>();

        // A new token for the refresh token that came with the last one (a PDA through a long shift, the customer app),
        // issued for the user's entry as it is now; refused once it expired or the entry changed.
        // A refresh token is good for one renewal: one used again (a copy) ends its sign-in session.
        routes.MapPost("/api/auth/refresh", async (RefreshRequest? request, ConfiguredUsers users, IOptionsMonitor<BearerTokenOptions> bearer, EndedSignIns signIns) =>
            {
                var options = bearer.Get(BearerTokenDefaults.AuthenticationScheme);
                var ticket = RefreshTicket(request, options);
                var now = (options.TimeProvider ?? TimeProvider.System).GetUtcNow();
                var user = ticket is { Properties.ExpiresUtc: { } expires } && now < expires ? users.Current(ticket.Principal) : null;
                var session = ticket?.Principal.FindFirst(ConfiguredUsers.SessionClaim)?.Value;
                if (user is null || session is null
                    || !int.TryParse(ticket!.Principal.FindFirst(ConfiguredUsers.GenerationClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
                {
                    return Results.Problem(title: "Invalid refresh token", detail: "The refresh token is not valid, has expired, or its user changed; sign in again.", statusCode: StatusCodes.Status401Unauthorized);
                }
                var renewed = await signIns.SessionsOf(user.Name).Renew(session, generation, now + options.RefreshTokenExpiration);
                if (renewed is null)
                {
                    signIns.Ended(session); // over (a copy caught, say): the access tokens of the sign-in stop too, here at once
                }
                return renewed is { } next
                    ? Results.SignIn(users.PrincipalOf(user, session, next), authenticationScheme: BearerTokenDefaults.AuthenticationScheme)
                    : Results.Problem(
                        title: "Invalid refresh token",
                        detail: "This refresh token's sign-in has ended: signed out, pushed out by newer sign-ins of the user, or the token used already (a refresh token is good once; a copy of it ends the sign-in); sign in again.",
                        statusCode: StatusCodes.Status401Unauthorized);
            })
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .AddEndpointFilter(NoStore)
            .WithName("RefreshToken").Produces<AccessTokenResponse>();

        // Signing out ends the sign-in on the silo: its refresh and access tokens work no more and its hub connections
        // close (a PDA handed to the next shift, a token lifted from the device before). Anonymous, as the refresh:
        // the refresh token says whose sign-in it is.
        routes.MapPost("/api/auth/sign-out", async (RefreshRequest? request, IOptionsMonitor<BearerTokenOptions> bearer, EndedSignIns signIns) =>
            {
                var ticket = RefreshTicket(request, bearer.Get(BearerTokenDefaults.AuthenticationScheme));
                if (ticket?.Principal.Identity?.Name is { } name && ticket.Principal.FindFirst(ConfiguredUsers.SessionClaim)?.Value is { } session)
                {
                    await signIns.SessionsOf(name).End(session);
                    signIns.Ended(session);
                }
                return Results.NoContent(); // a token not valid (any more) ends nothing, and says nothing either
            })
            .AllowAnonymous()
            .RequireRateLimiting(ApiRateLimits.Public)
            .WithName("SignOut").Produces(StatusCodes.Status204NoContent);

        // Who the token belongs to, so a page knows which crew or customer it serves.
        routes.MapGet("/api/auth/me", (ClaimsPrincipal user) =>
            {
                var caller = Caller.From(user);
                return Results.Ok(new CurrentUser(caller.Name, caller.Role, caller.CrewId, caller.CustomerId));
            })
            .RequireAuthorization(Roles.AnyAccount)
            .WithName("GetCurrentUser").Produces<CurrentUser>();
        return routes;
    }

    /// <summary>What the request's refresh token says, or null for one this silo did not issue (or cannot read any more).</summary>
    private static Microsoft.AspNetCore.Authentication.AuthenticationTicket? RefreshTicket(RefreshRequest? request, BearerTokenOptions options) =>
        string.IsNullOrWhiteSpace(request?.RefreshToken)
            ? throw new InvalidFieldException("refreshToken", "refreshToken is required.")
            : options.RefreshTokenProtector.Unprotect(request.RefreshToken);

    private static string NewSession() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>An answer holding tokens is kept by no cache on the way (RFC 6749 §5.1): a proxy or the browser's cache
    /// handed it to the next one asking.</summary>
    private static ValueTask<object?> NoStore(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        context.HttpContext.Response.Headers.CacheControl = "no-store";
        context.HttpContext.Response.Headers.Pragma = "no-cache";
        return next(context);
    }

    private static async Task<IResult> SignInAsync(
        TokenRequest? request, ConfiguredUsers users, SignInThrottle throttle, EndedSignIns signIns, IOptionsMonitor<BearerTokenOptions> bearer, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(request?.Username))
        {
            throw new InvalidFieldException("username", "username is required.");
        }
        if (request.Username.Length > LocalUser.MaxNameLength)
        {
            throw new InvalidFieldException("username", $"username is longer than {LocalUser.MaxNameLength} characters.");
        }
        if (string.IsNullOrEmpty(request.Password))
        {
            throw new InvalidFieldException("password", "password is required.");
        }
        // Before the password hash: a paused name costs no PBKDF2, and a right password learns no more than a wrong one.
        var address = http.Connection.RemoteIpAddress;
        var user = users.Find(request.Username);
        if (await throttle.PausedForAsync(request.Username, address, isUser: user is not null) is { } paused)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(paused.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(
                title: "Sign-ins paused",
                detail: $"Sign-ins for this account are paused after too many failed attempts; retry in {seconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests);
        }
        bool verified;
        using (var check = await throttle.PasswordCheckAsync(http.RequestAborted))
        {
            if (!check.IsAcquired)
            {
                http.Response.Headers.RetryAfter = "1";
                return Results.Problem(
                    title: "Sign-in is busy",
                    detail: "Too many sign-ins are being checked at once; retry in 1 s.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            // The same answer, after the same work, for an unknown user and a wrong password, so names cannot be probed.
            verified = PasswordHash.Verify(request.Password, user?.PasswordHash ?? PasswordHash.NoUser);
        }
        if (user is null || !verified)
        {
            throttle.Failed(request.Username, address);
            return Results.Problem(title: "Invalid credentials", detail: "The user name or password is wrong.", statusCode: StatusCodes.Status401Unauthorized);
        }
        throttle.SignedIn(request.Username, address);
        // Kept before its tokens are handed out: a sign-in the user's sessions grain does not keep is over.
        var options = bearer.Get(BearerTokenDefaults.AuthenticationScheme);
        var session = NewSession();
        await signIns.SessionsOf(user.Name).Start(session, (options.TimeProvider ?? TimeProvider.System).GetUtcNow() + options.RefreshTokenExpiration);
        return Results.SignIn(users.PrincipalOf(user, session, 0), authenticationScheme: BearerTokenDefaults.AuthenticationScheme);
    }
}

public sealed record TokenRequest(string? Username, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

/// <summary>Who a token belongs to: a page learns which crew or customer it serves.</summary>
public sealed record CurrentUser(string Name, string Role, string? CrewId, string? CustomerId);
