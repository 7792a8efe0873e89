from neighbourhood.care.teams.models.membership import Membership
from neighbourhood.care.teams.models.neighbourhood import Neighbourhood
from neighbourhood.care.teams.models.organisation import Organisation, Sector
from neighbourhood.care.teams.models.partnership import IntegratorPartnership, Place
from neighbourhood.care.teams.models.professional import Professional
from neighbourhood.care.teams.models.team import Team

__all__ = [
    "IntegratorPartnership",
    "Membership",
    "Neighbourhood",
    "Organisation",
    "Place",
    "Professional",
    "Sector",
    "Team",
]
