from django.contrib import admin

from frontline.customers.models import (
    Customer,
    CustomerEvent,
    CustomerMerge,
    CustomerOrganisation,
    Identity,
    MergeSuggestion,
    Order,
    Organisation,
)


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


class MembershipInline(admin.TabularInline):
    model = CustomerOrganisation
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "tier", "language", "merged_into", "created_at")
    search_fields = ("name", "identities__value")
    list_filter = ("tier",)
    inlines = [IdentityInline, MembershipInline]
    raw_id_fields = ("user", "merged_into")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "shared_tickets", "created_at")
    search_fields = ("name",)


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("kind", "network", "value", "customer")
    search_fields = ("value",)
    list_filter = ("kind",)
    raw_id_fields = ("customer",)


@admin.register(CustomerOrganisation)
class CustomerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("customer", "organisation", "is_primary")
    raw_id_fields = ("customer",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "product", "customer", "amount", "currency", "status", "ordered_at")
    list_filter = ("status", "currency")
    raw_id_fields = ("customer",)


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "actor", "created_at")
    raw_id_fields = ("customer",)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "target", "actor", "created_at", "reverted_at")
    raw_id_fields = ("source", "target")


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "other", "reason", "status", "created_at", "decided_by")
    list_filter = ("status", "reason")
    raw_id_fields = ("customer", "other")
