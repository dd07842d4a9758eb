using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Api.WorkOrders;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Api.Bookings;

/// <summary>Bookings (预约) over HTTP: hold one unit of a crew's published slot for an order, confirm it (the order
/// becomes Reserved and is dispatched to that crew before the slot starts), or release it. A dispatcher books for any
/// order; a customer books visits for their own orders, as in the app. Crews and operators do not book. Someone
/// else's order or booking answers 404. The crew grain decides every conflict (slot full, hold expired).</summary>
public static class BookingEndpoints
{
    public static IEndpointRouteBuilder MapBookingEndpoints(this IEndpointRouteBuilder routes)
    {
        var bookings = routes.MapGroup("/api/bookings")
            .RequireAuthorization(policy => policy.RequireRole(Roles.Dispatcher, Roles.Customer))
            .RequireRateLimiting(ApiRateLimits.Customer)
            .WithTags("Bookings");

        bookings.MapPost("/", async (HoldBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var orderId = RequestFields.RequiredId(body?.OrderId, "orderId");
            var crewId = RequestFields.RequiredId(body!.CrewId, "crewId");
            var slotStart = body.SlotStart ?? throw new InvalidFieldException("slotStart", "slotStart (the start of one of the crew's published slots) is required.");
            await WorkOrderEndpoints.VisibleOrderAsync(grains, orderId, caller);
            Booking booking;
            try
            {
                booking = await grains.GetGrain<IWorkOrderGrain>(orderId).HoldVisit(crewId, slotStart, caller.Actor);
            }
            catch (Exception refused) when (caller.Role == Roles.Customer
                && refused is EntityNotFoundException { Entity: "Crew" } or InvalidFieldException { Field: "crewId" })
            {
                // One answer for a crew that does not exist, lacks the skill or works elsewhere: a customer told them
                // apart (404 / "no Metering skill" / "does not work in region …"), learning the utility's crews and
                // their districts, which GET /api/crews/{id} answers 404 for.
                throw new InvalidFieldException("crewId", "That crew cannot take this visit: book one of the times offered for the request (GET /api/bookings/times).");
            }
            return Results.Created($"/api/bookings/{Uri.EscapeDataString(booking.Id)}", booking);
        }).WithName("HoldBooking").Produces<Booking>(StatusCodes.Status201Created);

        // What a customer picks from in the app (and a dispatcher on the phone with them): the order's region's free visit
        // times. A customer could not book at all: crews are not theirs to list, and slots were listed per crew only.
        bookings.MapGet("/times", async (string? orderId, string? to, ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
        {
            var caller = Caller.From(user);
            var id = RequestFields.RequiredId(orderId, "orderId");
            var until = RequestFields.Moment(to, "to") ?? silo.TimeProvider.GetUtcNow().AddDays(VisitTimesAhead);
            await WorkOrderEndpoints.VisibleOrderAsync(grains, id, caller);
            return Results.Ok(await grains.GetGrain<IWorkOrderGrain>(id).VisitTimes(caller.Actor, until, MaxVisitTimes));
        }).WithName("ListVisitTimes").Produces<IReadOnlyList<VisitTime>>();

        bookings.MapGet("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            Results.Ok(await VisibleBookingAsync(grains, id, Caller.From(user)))).WithName("GetBooking").Produces<Booking>();

        bookings.MapPost("/{id}/confirm", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var booking = await VisibleBookingAsync(grains, id, caller);
            var order = await grains.GetGrain<IWorkOrderGrain>(booking.OrderId).Apply(new WorkOrderCommand(WorkOrderAction.Reserve, caller.Actor, TargetId: booking.Id));
            var confirmed = await grains.GetGrain<IFieldCrewGrain>(booking.CrewId).GetBooking(booking.Id);
            return Results.Ok(new BookingConfirmation(confirmed!, order));
        }).WithName("ConfirmBooking").Produces<BookingConfirmation>();

        bookings.MapDelete("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var booking = await VisibleBookingAsync(grains, id, caller);
            await grains.GetGrain<IFieldCrewGrain>(booking.CrewId).ReleaseHold(booking.Id, caller.Actor);
            return Results.NoContent();
        }).WithName("ReleaseBooking").Produces(StatusCodes.Status204NoContent);

        return routes;
    }

    /// <summary>How far ahead visit times are listed by default (days), and at most how many.</summary>
    private const int VisitTimesAhead = 14;
    private const int MaxVisitTimes = 200;

    /// <summary>The booking if the caller may see its order; otherwise, and for an unknown id, 404.</summary>
    private static async Task<Booking> VisibleBookingAsync(IGrainFactory grains, string id, Caller caller)
    {
        var booking = BookingId.CrewOf(id) is { } crewId && id.Length <= 128 ? await grains.GetGrain<IFieldCrewGrain>(crewId).GetBooking(id) : null;
        if (booking is null)
        {
            throw new EntityNotFoundException("Booking", id);
        }
        try
        {
            await WorkOrderEndpoints.VisibleOrderAsync(grains, booking.OrderId, caller);
        }
        catch (EntityNotFoundException)
        {
            throw new EntityNotFoundException("Booking", id);
        }
        return booking;
    }
}

public sealed record HoldBody(string? OrderId, string? CrewId, DateTimeOffset? SlotStart);

/// <summary>The confirmed booking and the order it reserved.</summary>
public sealed record BookingConfirmation(Booking Booking, WorkOrderView Order);
